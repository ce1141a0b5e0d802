"""The challenge as organisers write it: the spec and its loading, expressions, phase data,
the organiser's trusted tree and code, scaffold, publish, and the embedded demo."""
