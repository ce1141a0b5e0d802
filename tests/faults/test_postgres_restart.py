"""PostgreSQL going away mid-scoring, under a real ``coop serve`` and Dask workers on PostgreSQL.

The machine's server cannot be restarted by a test (others share it), so the test does to the
service and its workers what a restart does to its clients: every connection they hold is
terminated (``pg_terminate_backend``), twice while submissions run. Each affected submission ends
scored (its run recorded, or retried and recorded) and none twice; none is lost.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import nbformat
import pytest

from scorer.facade import CoopAPI
from scorer.ports import hold
from tests.conftest import make_challenge
from tests.faults.conftest import assert_finished_once, count, dask
from tests.faults.test_service_killed import LIMITS
from tests.pg import admin, postgres_user, schema_url
from tests.service.test_push_spool import TOKENS, coop_serve, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.needs("bwrap")]
SUBMISSIONS = 6


def terminate(application: str) -> int:
    """Terminate every connection named ``application``, as a server restart would."""
    user, _reason = postgres_user()
    assert user is not None
    with admin(user) as connection:
        rows = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = %s AND pid <> pg_backend_pid()",
            (application,),
        ).fetchall()
    return len(rows)


def test_connections_terminated_mid_scoring_lose_nothing(tmp_path: Path) -> None:
    fixture = make_challenge(
        tmp_path / "challenge", edit={"phases.0.limits": LIMITS, "phases.0.submissions": {}}
    )
    application = f"coop-faults-{uuid.uuid4().hex[:8]}"  # only this test's connections are cut
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(TOKENS)
    with schema_url("faults") as url:
        fixture.settings.db_url = f"{url}&application_name={application}"
        api = CoopAPI(fixture.settings)
        try:
            api.prepare(str(fixture.bare), seed=7)
            baseline = nbformat.writes(fixture.baseline)
            sha = fixture.commit(
                "alice", {f"solutions/alice/p{i}.ipynb": baseline for i in range(SUBMISSIONS)}
            )
            ids = [q.submission_id for q in api.enqueue_commit(str(fixture.bare), sha)]
            with hold(2) as ports, dask(ports.numbers[0], tmp_path) as cluster:
                env = {"COOP_SCHEDULER": cluster.address, "COOP_DB_URL": fixture.settings.db_url}
                home, port = Path(fixture.settings.home), ports.numbers[1]
                with coop_serve(home, port, tokens, tmp_path / "serve.log", env):
                    wait_for("a run", lambda: count(api, ids, "running") >= 1)
                    first = terminate(application)
                    wait_for("a score", lambda: count(api, ids, "scored") >= 1, timeout=300)
                    second = terminate(application)
                    assert first and second
                    wait_for("all scored", lambda: count(api, ids, "scored") == SUBMISSIONS, timeout=300)
            # the threshold reward once: a grant that met a cut connection ran again
            assert assert_finished_once(api, ids) == 1
        finally:
            api.close()
