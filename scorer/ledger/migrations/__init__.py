"""Alembic migrations of the ledger, run by :func:`scorer.ledger.db.upgrade` (no alembic.ini).

New revision (from the repository root)::

    python -c "from alembic import command; from scorer.ledger.db import alembic_config; \
command.revision(alembic_config('sqlite:///dev.db'), 'what changed', autogenerate=True, \
rev_id='0002')"
"""
