"""A seeded simulator of particle tracks in a cylindrical detector, in the style of TrackML.

Charged particles leave the collision point and cross concentric detector layers; each
crossing is a *hit* (a measured point). In a magnetic field B a particle of transverse
momentum pT and charge q follows a circle through the origin of radius
R = pT / (0.3 B) (R in m, pT in GeV, B in T), so the hit on the layer of radius r lies at
the azimuth ``phi = phi0 - q * asin(r / 2R)``; with B = 0 the tracks are straight lines.
Some hits are lost (detector inefficiency) and random noise hits are added.

Nothing is downloaded: every number comes from ``numpy.random.default_rng(seed)``, and the
same seed and arguments always give byte-identical files.

Files written
-------------
``inputs_dir`` (what notebooks may read):
    ``train_hits.csv``       hit_id, event_id, x, y, [z,] layer, particle_id, weight
    ``train_particles.csv``  event_id, particle_id, pt, charge, phi0, [eta, z0,] n_hits
    ``test_hits.csv``        hit_id, event_id, x, y, [z,] layer (no truth)
    ``detector.json``        layer radii, magnetic field, units, numbers of events
``answers_dir`` (the hidden answer key):
    ``answers.csv``          hit_id, event_id, particle_id, weight, usage

``particle_id`` is 0 for noise hits. Hit weights follow the TrackML scheme in a simplified
form: noise hits and particles with fewer than 3 hits weigh 0; the innermost and outermost
hit of a particle weigh twice the others; particles with a high pT weigh more (0.2 below
0.5 GeV, rising linearly to 1 at 3 GeV); weights sum to 1 in every event. Whole events are
public or private, so a track never straddles the two splits.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

#: Half length of the barrel (mm): hits beyond |z| are not recorded.
HALF_LENGTH = 2500.0
#: Default layer radii (mm).
TOY_RADII = (60.0, 120.0, 180.0, 240.0, 300.0, 360.0)
REALISTIC_RADII = (40.0, 70.0, 110.0, 170.0, 260.0, 360.0, 500.0, 660.0, 820.0, 1000.0)


def generate(
    phase_id: str,
    inputs_dir: Path,
    answers_dir: Path,
    *,
    seed: int,
    public_fraction: float,
    n_train_events: int = 20,
    n_test_events: int = 20,
    tracks_per_event: tuple[int, int] | list[int] = (8, 12),
    layer_radii: tuple[float, ...] | list[float] | None = None,
    magnetic_field: float = 0.0,
    pt_min: float = 0.5,
    noise_fraction: float = 0.02,
    hit_efficiency: float = 1.0,
    resolution: float = 0.2,
    with_z: bool = False,
    vertex_spread: float = 0.0,
) -> None:
    """Write the inputs (train and test hits) and the hidden answer key of one phase.

    ``tracks_per_event`` is an inclusive [min, max] range; ``magnetic_field`` is in tesla
    (0: straight tracks); ``resolution`` is the hit smearing in mm along the layer;
    ``noise_fraction`` the number of noise hits relative to true hits; ``with_z`` adds the
    longitudinal coordinate; ``vertex_spread`` is the sigma of the transverse vertex (mm).
    """
    if not 0 < public_fraction <= 1:
        raise ValueError(f"public_fraction must be in (0, 1], not {public_fraction}")
    if n_train_events < 1 or n_test_events < 1:
        raise ValueError("n_train_events and n_test_events must be at least 1")
    radii = np.asarray(layer_radii if layer_radii is not None else TOY_RADII, dtype=float)
    inputs_dir, answers_dir = Path(inputs_dir), Path(answers_dir)
    inputs_dir.mkdir(parents=True, exist_ok=True)
    answers_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    options = {
        "radii": radii,
        "tracks_per_event": tuple(tracks_per_event),
        "magnetic_field": float(magnetic_field),
        "pt_min": float(pt_min),
        "noise_fraction": float(noise_fraction),
        "hit_efficiency": float(hit_efficiency),
        "resolution": float(resolution),
        "with_z": bool(with_z),
        "vertex_spread": float(vertex_spread),
    }

    train_hits, train_particles = _simulate_events(rng, range(n_train_events), **options)
    test_events = range(n_train_events, n_train_events + n_test_events)
    test_hits, _ = _simulate_events(rng, test_events, **options)

    coordinates = ["x", "y", "z"] if with_z else ["x", "y"]
    write = {"index": False, "lineterminator": "\n"}
    train_hits[["hit_id", "event_id", *coordinates, "layer", "particle_id", "weight"]].to_csv(
        inputs_dir / "train_hits.csv", float_format="%.6g", **write
    )
    particle_columns = ["event_id", "particle_id", "pt", "charge", "phi0"]
    particle_columns += ["eta", "z0"] if with_z else []
    train_particles[[*particle_columns, "n_hits"]].to_csv(
        inputs_dir / "train_particles.csv", float_format="%.6g", **write
    )
    test_hits[["hit_id", "event_id", *coordinates, "layer"]].to_csv(
        inputs_dir / "test_hits.csv", float_format="%.6g", **write
    )

    answers = test_hits[["hit_id", "event_id", "particle_id", "weight"]].copy()
    public_events = _public_events(rng, np.asarray(test_events), public_fraction)
    answers["usage"] = np.where(answers["event_id"].isin(public_events), "public", "private")
    answers.to_csv(answers_dir / "answers.csv", float_format="%.8g", **write)

    detector = {
        "phase": phase_id,
        "layer_radii_mm": [float(r) for r in radii],
        "magnetic_field_T": float(magnetic_field),
        "half_length_mm": HALF_LENGTH if with_z else None,
        "coordinates": coordinates,
        "units": {"x": "mm", "y": "mm", "z": "mm", "pt": "GeV", "phi0": "rad"},
        "n_train_events": n_train_events,
        "n_test_events": n_test_events,
    }
    (inputs_dir / "detector.json").write_text(json.dumps(detector, indent=2, sort_keys=True) + "\n")


def _public_events(rng: np.random.Generator, events: np.ndarray, public_fraction: float) -> np.ndarray:
    """Exactly round(n * fraction) public events, leaving both splits non-empty when possible."""
    n = len(events)
    n_public = round(n * public_fraction)
    n_public = max(1, min(n_public, n if public_fraction >= 1 or n == 1 else n - 1))
    return np.sort(events[rng.permutation(n)[:n_public]])


def _simulate_events(
    rng: np.random.Generator, events: range, **options: object
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hits and particles of several events; hit ids run on across the events."""
    hits, particles = [], []
    next_hit_id = 1
    for event_id in events:
        event_hits, event_particles = _simulate_event(rng, event_id, **options)  # type: ignore[arg-type]
        event_hits.insert(0, "hit_id", np.arange(next_hit_id, next_hit_id + len(event_hits)))
        next_hit_id += len(event_hits)
        hits.append(event_hits)
        particles.append(event_particles)
    return pd.concat(hits, ignore_index=True), pd.concat(particles, ignore_index=True)


def _simulate_event(
    rng: np.random.Generator,
    event_id: int,
    *,
    radii: np.ndarray,
    tracks_per_event: tuple[int, int],
    magnetic_field: float,
    pt_min: float,
    noise_fraction: float,
    hit_efficiency: float,
    resolution: float,
    with_z: bool,
    vertex_spread: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    low, high = tracks_per_event
    n_tracks = int(rng.integers(low, high + 1))
    n_layers = len(radii)
    particle_id = event_id * 10_000 + 1 + np.arange(n_tracks)
    phi0 = rng.uniform(-np.pi, np.pi, n_tracks)
    pt = pt_min + rng.exponential(1.0, n_tracks)
    charge = rng.choice([-1, 1], n_tracks)
    eta = rng.uniform(-1.5, 1.5, n_tracks)
    z0 = rng.normal(0.0, 50.0, n_tracks)
    vertex = rng.normal(0.0, vertex_spread, (n_tracks, 2)) if vertex_spread > 0 else np.zeros((n_tracks, 2))

    # Every (particle, layer) crossing, as arrays of shape (n_tracks, n_layers).
    r = np.broadcast_to(radii, (n_tracks, n_layers))
    if magnetic_field > 0:
        radius = pt / (0.3 * magnetic_field) * 1000.0  # mm
        ratio = r / (2.0 * radius[:, None])
        reached = ratio < 1.0
        bend = np.arcsin(np.clip(ratio, 0.0, 1.0))
        phi = phi0[:, None] - charge[:, None] * bend
        arc = 2.0 * radius[:, None] * bend
    else:
        reached = np.ones_like(r, dtype=bool)
        phi = np.broadcast_to(phi0[:, None], r.shape)
        arc = r
    phi = phi + rng.normal(0.0, resolution, r.shape) / r
    x = r * np.cos(phi) + vertex[:, [0]]
    y = r * np.sin(phi) + vertex[:, [1]]
    z = z0[:, None] + np.sinh(eta)[:, None] * arc + rng.normal(0.0, 4.0 * resolution, r.shape)
    kept = reached & (rng.random(r.shape) < hit_efficiency)
    if with_z:
        kept &= np.abs(z) < HALF_LENGTH
    layer = np.broadcast_to(np.arange(n_layers), r.shape)
    owner = np.broadcast_to(particle_id[:, None], r.shape)

    true = pd.DataFrame(
        {
            "x": x[kept],
            "y": y[kept],
            "z": z[kept],
            "layer": layer[kept],
            "particle_id": owner[kept],
        }
    )
    true["weight"] = _hit_weights(true, dict(zip(particle_id, pt, strict=True)))

    n_noise = int(rng.poisson(noise_fraction * len(true))) if noise_fraction > 0 else 0
    noise_layer = rng.integers(0, n_layers, n_noise)
    noise_phi = rng.uniform(-np.pi, np.pi, n_noise)
    noise = pd.DataFrame(
        {
            "x": radii[noise_layer] * np.cos(noise_phi),
            "y": radii[noise_layer] * np.sin(noise_phi),
            "z": rng.uniform(-HALF_LENGTH, HALF_LENGTH, n_noise),
            "layer": noise_layer,
            "particle_id": 0,
            "weight": 0.0,
        }
    )
    hits = pd.concat([true, noise], ignore_index=True)
    hits = hits.iloc[rng.permutation(len(hits))].reset_index(drop=True)  # order reveals nothing
    total = hits["weight"].sum()
    if total > 0:
        hits["weight"] /= total
    hits.insert(0, "event_id", event_id)

    n_hits = true.groupby("particle_id").size().reindex(particle_id, fill_value=0).to_numpy()
    particles = pd.DataFrame(
        {
            "event_id": event_id,
            "particle_id": particle_id,
            "pt": pt,
            "charge": charge,
            "phi0": phi0,
            "eta": eta,
            "z0": z0,
            "n_hits": n_hits,
        }
    )
    return hits, particles


def _hit_weights(true: pd.DataFrame, pt_of: dict[int, float]) -> np.ndarray:
    """Simplified TrackML weights (before the per-event normalisation)."""
    by_particle = true.groupby("particle_id")["layer"]
    n_hits = by_particle.transform("size").to_numpy()
    first = (true["layer"] == by_particle.transform("min")).to_numpy()
    last = (true["layer"] == by_particle.transform("max")).to_numpy()
    order = np.where(first | last, 2.0, 1.0)
    pt = true["particle_id"].map(pt_of).to_numpy()
    pt_weight = np.clip(0.2 + 0.8 * (pt - 0.5) / 2.5, 0.2, 1.0)
    return np.where(n_hits >= 3, order * pt_weight, 0.0)
