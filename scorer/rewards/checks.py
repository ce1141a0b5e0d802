"""``organiser-check``: the organiser's function, loaded from the challenge's trusted tree (never
from a participant's commit), called in the scorer with the executed notebook and the public
metrics. It reads the notebook as data and never runs participant code.

The function is ``def check(notebook: nbformat.NotebookNode, metrics: dict[str, float | None])``
and answers ``True``/``False``, ``(passed, reason)`` or an object with ``passed`` (and
``reason``), such as :class:`~scorer.rewards.views.Verdict`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import nbformat

from scorer.challenge.organiser_code import load_function
from scorer.rewards.views import Verdict

#: Finds the organiser's trusted tree only when a check needs it (exporting it may use git).
TrustedTree = Callable[[], Path]


class CheckFailed(Exception):
    """The organiser's function is missing, raised, or answered something that is no verdict."""


def verdict(
    tree: TrustedTree | None, function: str, notebook: bytes | None, metrics: Mapping[str, float | None]
) -> Verdict:
    """What the organiser's ``function`` (``file.py:name``) says about an executed notebook."""
    if tree is None:
        raise CheckFailed("the challenge's trusted organiser code is not available here")
    if not notebook:
        raise CheckFailed("the submission has no executed notebook to check")
    try:
        check = load_function(tree(), function)
        answer = check(nbformat.reads(notebook.decode("utf-8"), as_version=4), dict(metrics))
    except Exception as exc:
        raise CheckFailed(f"{function}: {type(exc).__name__}: {exc}") from exc
    return _as_verdict(function, answer)


def _as_verdict(function: str, answer: object) -> Verdict:
    if isinstance(answer, bool):
        return Verdict(answer)
    if isinstance(answer, tuple) and len(answer) == 2 and isinstance(answer[0], bool):
        return Verdict(answer[0], str(answer[1]))
    passed = getattr(answer, "passed", None)
    if isinstance(passed, bool):
        return Verdict(passed, str(getattr(answer, "reason", "") or ""))
    raise CheckFailed(f"{function} answered {type(answer).__name__}, not a verdict (True/False)")
