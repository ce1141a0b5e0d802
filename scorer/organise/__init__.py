"""Organisers' changes to a running challenge: phases, rewarders, rescoring, the audit trail."""
