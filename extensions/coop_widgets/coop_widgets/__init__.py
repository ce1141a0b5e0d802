"""Coopetition's notebook widgets: Submit with live status, leaderboards (with likes), the phase
banner, your submissions, your rewards, the organisers' panel, and the search for people by skills.

    from coop_widgets import Submit
    Submit()                      # commits this notebook, pushes, follows its score

The widgets are ipywidgets composed from core widgets; each talks to the scorer service
(``$COOP_SERVICE_URL``, with the kernel's ``$JUPYTERHUB_API_TOKEN``) from asyncio tasks on the
kernel's running loop, so the kernel stays free while they wait. Names are loaded on first use:
the server extension in this package (:mod:`coop_widgets.server`) must not pull in ipywidgets.
Loaded as an IPython extension (``%load_ext coop_widgets`` or ``IPKernelApp.extensions``), the
package records each cell's source as it runs from the kernel's start, which the unsaved-changes
check of :class:`Submit` uses when the front end cannot save the notebook itself.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: Public name -> the module defining it.
EXPORTS = {
    "Submit": "coop_widgets.submit",
    "Leaderboard": "coop_widgets.leaderboard",
    "PhaseBanner": "coop_widgets.banner",
    "MySubmissions": "coop_widgets.submissions",
    "MyRewards": "coop_widgets.rewards",
    "OrganiserPanel": "coop_widgets.organiser",
    "PeopleSearch": "coop_widgets.people",
}

__all__ = sorted(EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in EXPORTS:
        raise AttributeError(f"module 'coop_widgets' has no attribute {name!r}")
    return getattr(import_module(EXPORTS[name]), name)


def load_ipython_extension(shell: Any) -> None:
    """Start recording cell runs in this kernel (see :mod:`coop_widgets._saving`)."""
    from coop_widgets._saving import record_runs

    record_runs(shell)
