"""Profiles (next: issue 11): one person across challenges, their rewards, credit and skills;
search and ranking by the skills a viewer cares about; export and import as signed, verifiable
credentials between instances. A pure core, the ledger for storage, routes in the service."""
