"""The scorer as an HTTP service: authentication, scopes and the JSON API (``coop serve``).

``app.create_app`` builds the FastAPI application; ``auth`` says who is calling; ``convert``
builds the API's response models (:mod:`coop_client.models`, shared with the client) from the
spec and the ledger. Nothing is imported here.
"""
