"""A seeded simulator of weighted collision events in the style of the 2014 HiggsML challenge.

Signal is H -> tau tau (a resonance near 125 GeV); background is a mix of Z -> tau tau
(a resonance near 91 GeV), W + jets and top-pair production (falling spectra). Every event
carries a weight: the sum of the weights of a class is the number of events of that class
expected in the data set, so signal weights are small and background weights large.

Nothing is downloaded: every number comes from ``numpy.random.default_rng(seed)``, and the
same seed and arguments always give byte-identical files.

Files written
-------------
``inputs_dir`` (what notebooks may read):
    ``train.csv``      EventId, features..., Weight, Label ("s"/"b")
    ``test.csv``       EventId, features... (no weights, no labels)
    ``metadata.json``  the phase, the feature names, the expected totals and the AMS b_reg
``answers_dir`` (the hidden answer key):
    ``answers.csv``    EventId, Label, Weight, usage ("public"/"private")

Weights are renormalised per set, class by class, so that the training set and the whole
test set each sum to the expected totals. The metric renormalises once more per split
(public or private), as the real challenge did.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

#: Value of a feature that is undefined for an event (as in the HiggsML data).
MISSING = -999.0
#: Regularisation term of the AMS (b_reg).
B_REG = 10.0

#: Background processes of the realistic phase: share of simulated events, expected events.
BACKGROUNDS = {"ztautau": (0.40, 0.42), "wjets": (0.35, 0.43), "ttbar": (0.25, 0.15)}
#: Jet multiplicity (0, 1, 2, 3+) probabilities per process.
JET_PROBS = {
    "signal": [0.30, 0.35, 0.20, 0.15],
    "ztautau": [0.55, 0.30, 0.10, 0.05],
    "wjets": [0.50, 0.30, 0.13, 0.07],
    "ttbar": [0.05, 0.15, 0.35, 0.45],
}


def generate(
    phase_id: str,
    inputs_dir: Path,
    answers_dir: Path,
    *,
    seed: int,
    public_fraction: float,
    kind: str = "realistic",
    n_train: int = 40_000,
    n_test: int = 60_000,
    signal_fraction: float = 0.3,
    expected_signal: float = 700.0,
    expected_background: float = 400_000.0,
) -> None:
    """Write the inputs (training and test sets) and the hidden answer key of one phase.

    ``kind`` is ``"toy"`` (two well-separated features, one background) or ``"realistic"``
    (thirteen overlapping features, three backgrounds, undefined values, pile-up).
    ``signal_fraction`` is the share of *simulated* signal events, ``expected_signal`` and
    ``expected_background`` the sums of weights of each class.
    """
    if kind not in ("toy", "realistic"):
        raise ValueError(f"kind must be 'toy' or 'realistic', not {kind!r}")
    if not 0 < public_fraction <= 1:
        raise ValueError(f"public_fraction must be in (0, 1], not {public_fraction}")
    inputs_dir, answers_dir = Path(inputs_dir), Path(answers_dir)
    inputs_dir.mkdir(parents=True, exist_ok=True)
    answers_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)

    simulate = _simulate_toy if kind == "toy" else _simulate_realistic
    train = simulate(rng, n_train, signal_fraction)
    test = simulate(rng, n_test, signal_fraction)
    features = [c for c in train.columns if c not in ("Label", "Weight")]
    for frame in (train, test):
        _normalise(frame, expected_signal, expected_background)
    train.insert(0, "EventId", np.arange(100_000, 100_000 + n_train))
    test.insert(0, "EventId", np.arange(100_000 + n_train, 100_000 + n_train + n_test))

    train[["EventId", *features, "Weight", "Label"]].to_csv(
        inputs_dir / "train.csv", index=False, float_format="%.5g", lineterminator="\n"
    )
    test[["EventId", *features]].to_csv(
        inputs_dir / "test.csv", index=False, float_format="%.5g", lineterminator="\n"
    )
    answers = test[["EventId", "Label", "Weight"]].copy()
    answers["usage"] = _usage(rng, len(answers), public_fraction)
    answers.to_csv(answers_dir / "answers.csv", index=False, float_format="%.8g", lineterminator="\n")

    metadata = {
        "phase": phase_id,
        "kind": kind,
        "features": features,
        "missing_value": MISSING,
        "expected_signal": expected_signal,
        "expected_background": expected_background,
        "b_reg": B_REG,
        "n_train": n_train,
        "n_test": n_test,
    }
    (inputs_dir / "metadata.json").write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n")


def _usage(rng: np.random.Generator, n: int, public_fraction: float) -> np.ndarray:
    """``public``/``private`` per row: exactly round(n * fraction) public, both splits non-empty."""
    n_public = round(n * public_fraction)
    n_public = max(1, min(n_public, n if public_fraction >= 1 else n - 1))
    usage = np.full(n, "private", dtype=object)
    usage[rng.permutation(n)[:n_public]] = "public"
    return usage


def _normalise(frame: pd.DataFrame, total_signal: float, total_background: float) -> None:
    """Scale weights class by class so that each class sums to its expected total."""
    for label, total in (("s", total_signal), ("b", total_background)):
        mask = frame["Label"] == label
        frame.loc[mask, "Weight"] *= total / frame.loc[mask, "Weight"].sum()


def _labels(rng: np.random.Generator, n: int, signal_fraction: float) -> np.ndarray:
    return np.where(rng.random(n) < signal_fraction, "s", "b")


def _simulate_toy(rng: np.random.Generator, n: int, signal_fraction: float) -> pd.DataFrame:
    """Two features: a mass peak at 125 over a falling spectrum, and a transverse mass."""
    label = _labels(rng, n, signal_fraction)
    sig = label == "s"
    mass = np.where(sig, rng.normal(125.0, 12.0, n), 55.0 + rng.exponential(45.0, n))
    mt = np.where(sig, rng.gamma(2.0, 10.0, n), np.abs(rng.normal(65.0, 22.0, n)))
    weight = rng.uniform(0.8, 1.2, n)  # rescaled per class by _normalise
    return pd.DataFrame({"mass": mass, "mt": mt, "Weight": weight, "Label": label})


def _simulate_realistic(rng: np.random.Generator, n: int, signal_fraction: float) -> pd.DataFrame:
    """Thirteen overlapping features, three backgrounds, undefined values and pile-up smearing."""
    label = _labels(rng, n, signal_fraction)
    process = np.full(n, "signal", dtype=object)
    bkg = label == "b"
    shares = np.array([share for share, _ in BACKGROUNDS.values()])
    process[bkg] = rng.choice(list(BACKGROUNDS), size=int(bkg.sum()), p=shares / shares.sum())

    pileup = rng.poisson(20, n).astype(float)
    resolution = 1.0 + 0.03 * (pileup - 20.0)  # more pile-up, worse mass resolution
    jet_num = np.zeros(n, dtype=int)
    true_mass = np.empty(n)
    mt = np.empty(n)
    pt_h = np.empty(n)
    vbf = np.zeros(n, dtype=bool)
    p_undefined = np.empty(n)

    for name in ("signal", *BACKGROUNDS):
        m = process == name
        k = int(m.sum())
        jet_num[m] = rng.choice(4, size=k, p=JET_PROBS[name])
        if name == "signal":
            true_mass[m] = rng.normal(125.0, 1.0, k)
            mt[m] = rng.gamma(2.0, 14.0, k)
            pt_h[m] = rng.gamma(2.0, 28.0, k)
            vbf[m] = rng.random(k) < 0.30
            p_undefined[m] = 0.05
        elif name == "ztautau":
            true_mass[m] = rng.normal(91.2, 2.5, k)
            mt[m] = rng.gamma(2.0, 14.0, k)
            pt_h[m] = rng.gamma(1.8, 26.0, k)
            vbf[m] = rng.random(k) < 0.04
            p_undefined[m] = 0.08
        elif name == "wjets":
            true_mass[m] = 40.0 + rng.gamma(2.5, 30.0, k)
            mt[m] = np.abs(rng.normal(62.0, 22.0, k))
            pt_h[m] = rng.gamma(2.0, 25.0, k)
            vbf[m] = rng.random(k) < 0.04
            p_undefined[m] = 0.25
        else:  # ttbar
            true_mass[m] = 50.0 + rng.gamma(3.0, 35.0, k)
            mt[m] = rng.gamma(3.0, 22.0, k)
            pt_h[m] = rng.gamma(3.0, 30.0, k)
            vbf[m] = rng.random(k) < 0.08
            p_undefined[m] = 0.15

    # Correlated kinematics: a boosted di-tau system has a small opening angle and carries
    # more missing energy, so deltar and met mostly repeat what true_mass and pt_h say.
    deltar = 2.2 * true_mass / (pt_h + 45.0) * rng.uniform(0.7, 1.3, n)
    deltar = np.clip(deltar + rng.normal(0.0, 0.25, n), 0.3, 5.0)
    met = 0.35 * pt_h + rng.gamma(2.5, 10.0, n)
    smear = rng.normal(0.0, 1.0, n) * resolution  # shared by the two mass estimates
    mass_mmc = np.maximum(true_mass * (1.0 + 0.14 * smear), 10.0)
    mass_mmc[rng.random(n) < p_undefined] = MISSING
    mass_vis = true_mass * (rng.uniform(0.45, 0.80, n) + 0.08 * smear)
    mass_vis = np.maximum(mass_vis + rng.normal(0.0, 5.0, n) * resolution, 5.0)

    jj_gap = np.where(vbf, np.abs(rng.normal(3.5, 1.2, n)), np.abs(rng.normal(0.0, 1.8, n)))
    deltaeta_jj = np.where(jet_num >= 2, jj_gap, MISSING)
    mass_jj = 40.0 * np.exp(0.45 * jj_gap) * rng.lognormal(0.0, 0.4, n)
    mass_jj = np.where(jet_num >= 2, mass_jj, MISSING)
    lep_eta = rng.normal(0.0, np.where(label == "s", 1.15, 1.25), n)
    tau_eta = rng.normal(0.0, np.where(label == "s", 1.15, 1.25), n)
    pt_ratio = rng.gamma(3.0, 0.4, n)  # uninformative

    # Weights: expected events of each process over simulated events of it, with jitter.
    weight = np.empty(n)
    for name in ("signal", *BACKGROUNDS):
        m = process == name
        expected = 1.0 if name == "signal" else BACKGROUNDS[name][1]
        weight[m] = expected / max(int(m.sum()), 1)
    weight *= rng.lognormal(0.0, 0.15, n)

    return pd.DataFrame(
        {
            "mass_mmc": mass_mmc,
            "mass_vis": mass_vis,
            "mt_met_lep": mt,
            "pt_h": pt_h,
            "met": met,
            "deltar_tau_lep": deltar,
            "jet_num": jet_num,
            "deltaeta_jj": deltaeta_jj,
            "mass_jj": mass_jj,
            "lep_eta": lep_eta,
            "tau_eta": tau_eta,
            "pt_ratio_lep_tau": pt_ratio,
            "pileup": pileup.astype(int),
            "Weight": weight,
            "Label": label,
        }
    )
