"""Coopetition's notebook widgets (Submit, live status, leaderboards).

The widgets arrive with the service's HTTP API (issues 3 and 4); this package is installed
now so that notebooks and the hub image have one stable import name.
"""

__all__: list[str] = []
