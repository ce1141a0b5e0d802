"""Per-challenge software environments: declared in ``challenge.yaml``, built once into a folder
named by the hash of their inputs, offered to JupyterLab as a kernel and mounted read-only into
the scorer's sandbox."""
