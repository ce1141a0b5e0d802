"""Credit for measured score gains (next: issue 10). A pure core over the commit graph: best-so-far
per metric with the challenge's noise threshold, Shapley splits at merges, nothing for reverts,
recomputed below an invalidated score; notebook lineage comes from :mod:`scorer.ingest.attribution`
and the ledger's commits. The contribution graph's data is read from here by the service."""
