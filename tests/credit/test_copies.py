"""Copies git cannot see, found by winnowed fingerprints of notebook sources."""

from __future__ import annotations

import nbformat

from scorer.credit.copies import Candidate, find_copies, notebook_text, winnow

MODEL = """
import numpy as np
import pandas as pd

train = pd.read_csv(f"{inputs_dir}/train.csv")
features = train[["x", "y", "z"]].to_numpy()
weights = np.linalg.lstsq(features, train.target.to_numpy(), rcond=None)[0]
residuals = train.target - features @ weights
print("training error", float(np.sqrt(np.mean(residuals**2))))
"""
OTHER = """
from sklearn.ensemble import RandomForestRegressor
forest = RandomForestRegressor(n_estimators=300, max_depth=12, random_state=0)
forest.fit(train.drop(columns="target"), train.target)
importances = sorted(zip(forest.feature_importances_, train.columns), reverse=True)
"""


def notebook(*sources: str) -> bytes:
    cells = [nbformat.v4.new_code_cell(source) for source in sources]
    return nbformat.writes(nbformat.v4.new_notebook(cells=cells)).encode()


def prints(*sources: str) -> frozenset[int]:
    return winnow(notebook_text(notebook(*sources)))


def test_formatting_and_outputs_do_not_change_the_text():
    spaced = notebook(MODEL.replace(" = ", "   =   "))
    assert notebook_text(spaced) == notebook_text(notebook(MODEL))
    assert notebook_text(b"not a notebook") == ""


def test_a_copy_with_edits_is_found_and_the_earliest_original_wins():
    candidates = [
        Candidate("a1:solutions/alice/fit.ipynb", "solutions/alice/fit.ipynb", prints(MODEL)),
        Candidate("b1:solutions/bob/fit.ipynb", "solutions/bob/fit.ipynb", prints(MODEL)),  # a copy too
        Candidate("d1:solutions/dan/fit.ipynb", "solutions/dan/fit.ipynb", prints(OTHER)),
    ]
    edited = MODEL.replace("rcond=None", "rcond=1e-6") + "\nprint('carol was here')\n"
    orphans = {
        "c1:solutions/carol/fit.ipynb": ("solutions/carol/fit.ipynb", prints(edited)),
        "e1:solutions/eve/fit.ipynb": ("solutions/eve/fit.ipynb", prints(OTHER + MODEL)),
        "f1:solutions/fay/fit.ipynb": (
            "solutions/fay/fit.ipynb",
            prints("print('my own idea, nothing copied')" * 3),
        ),
    }
    before = {
        "c1:solutions/carol/fit.ipynb": 3,
        "e1:solutions/eve/fit.ipynb": 3,
        "f1:solutions/fay/fit.ipynb": 3,
    }
    found = find_copies(orphans, candidates, before)
    assert found["c1:solutions/carol/fit.ipynb"] == "a1:solutions/alice/fit.ipynb"
    assert "f1:solutions/fay/fit.ipynb" not in found
    assert found["e1:solutions/eve/fit.ipynb"] == "a1:solutions/alice/fit.ipynb"  # mostly alice's


def test_only_earlier_versions_of_other_notebooks_are_originals():
    candidates = [
        Candidate("a1:solutions/alice/fit.ipynb", "solutions/alice/fit.ipynb", prints(MODEL)),
        Candidate("c0:solutions/carol/fit.ipynb", "solutions/carol/fit.ipynb", prints(MODEL)),
    ]
    orphans = {"c1:solutions/carol/fit.ipynb": ("solutions/carol/fit.ipynb", prints(MODEL))}
    assert find_copies(orphans, candidates, {"c1:solutions/carol/fit.ipynb": 0}) == {}
    assert find_copies(orphans, candidates[1:], {"c1:solutions/carol/fit.ipynb": 1}) == {}
