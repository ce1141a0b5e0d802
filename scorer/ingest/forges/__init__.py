"""Forge webhooks as pure functions, one module per forge; each is an entry point of the group
:data:`FORGES` (``github``, ``gitlab``, ``gitea``), looked up through the ``forges`` registry the
API facade holds. What all forges share is in :mod:`.base`."""

from __future__ import annotations

FORGES = "coop.forges"
