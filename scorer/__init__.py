"""Coopetition's scorer: challenge specs, sandboxed scoring, the ledger and leaderboards."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("coopetition")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"
