"""The scorer as an HTTP service: authentication, scopes and the JSON API (``coop serve``).

``app.create_app`` builds the FastAPI application; ``auth`` says who is calling; ``models``
holds the response models shared with :mod:`scorer.client`. Nothing is imported here, so that
the client can use ``models`` without loading FastAPI.
"""
