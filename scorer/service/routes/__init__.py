"""The HTTP routes of the scorer service, one module per resource."""
