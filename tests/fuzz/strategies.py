"""Hypothesis strategies the fuzz tests share."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st

#: Any JSON value, a few levels deep.
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
#: Settings of every fuzz test: the same examples on every run (CI is deterministic).
FUZZ = settings(max_examples=100, derandomize=True, deadline=None, database=None)
