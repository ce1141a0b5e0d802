"""Handing queued submissions to Dask executors."""
