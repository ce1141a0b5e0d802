"""Leaderboards as pure functions: selection, ranking, computed columns."""
