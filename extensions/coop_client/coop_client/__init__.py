"""The light half of Coopetition, shared by the scorer, the widgets and the dashboards: the
API's response models (the contract), the typed HTTP client, the git runner and the root of
every Coopetition error. It imports neither SQLAlchemy, Dask nor FastAPI, so a participant's
kernel can load it cheaply."""
