"""Notebooks drawn for people: inert HTML pages and nbdime diffs."""
