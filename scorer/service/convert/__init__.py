"""The service's side of the API contract: :mod:`coop_client.models` built from the spec and the
ledger's views (the contract itself knows neither), one module per subject."""
