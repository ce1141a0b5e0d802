"""The profile page rendered in this process from the real service (uvicorn over a SQLite ledger
written by the ledger's own functions, scored notebooks for skills, profiles edited through the
API), and its pure parts from the client's models: every section, pages of submissions, the
private Δ, fields escaped and cut, imported credentials marked with their issuer, and a hidden
or unknown person as the friendly "No such person" page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from coop_client.client import CoopClient, CoopClientError
from coop_client.models import (
    DISPLAY_NAME_MAX,
    CreditCommitOut,
    ImportedCredentialOut,
    PhaseCreditOut,
    ProfileIn,
)
from coop_widgets.dashboards import page, profile
from scorer.config import ScorerSettings
from scorer.facade import CoopAPI
from scorer.service.app import create_app
from tests.ledger.ledger_helpers import Ledger
from tests.service.conftest import PREFIX, TOKENS, running
from tests.service.rewards_ledger import Rewarded, reward
from tests.service.test_people import scored

ERINS = 25  # more than a page
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Rewarded, int]]:
    api = CoopAPI(ScorerSettings(home=str(tmp_path_factory.mktemp("profile") / "home")))
    with pytest.MonkeyPatch.context() as patch:
        try:
            data = reward(api.sessions)
            ledger = Ledger(api.sessions, data.spec)
            clustering = scored(ledger, "alice", "from sklearn.cluster import DBSCAN", "DBSCAN().fit(x)")
            for n in range(ERINS):
                ledger.submit("erin", 0.5 + n / 100)
            with running(create_app(api, TOKENS, prefix=PREFIX)) as url:
                with CoopClient(url + PREFIX, "alice-token") as alice:
                    alice.edit_profile(
                        ProfileIn(
                            display_name=f"Alice {HOSTILE}",
                            affiliation="CERN & <b>friends</b>",
                            orcid="0000-0002-1825-0097",
                            links=['https://example.org/a?b=1&c="2"'],
                        )
                    )
                with CoopClient(url + PREFIX, "bob-token") as bob:
                    bob.edit_profile(ProfileIn(hidden=True))
                patch.setenv("COOP_SERVICE_URL", url + PREFIX)
                yield url + PREFIX, data, clustering
        finally:
            api.close()


def plain(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def section(html: str, key: str) -> str:
    found = re.search(rf'<section id="{key}".*?</section>', html)
    assert found, f"no section {key}"
    return found.group(0)


def cells(html: str) -> list[list[str]]:
    """Each table row's cells as text (header rows included)."""
    rows = re.findall(r"<tr>(.*?)</tr>", html)
    return [
        [
            " ".join(unescape(re.sub(r"<[^>]+>", " ", c)).split())
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r)
        ]
        for r in rows
    ]


def test_alices_profile_shows_every_section(served):
    _, data, clustering = served
    html = profile.render({"id": "alice"})
    assert [h for _, h in profile.SECTIONS] == re.findall(r'<h2 id="[a-z]+-h">([^<]+)</h2>', html)
    history = cells(section(html, "history"))
    assert history[0] == ["challenge", "phase", "submissions", "first", "last"]
    assert [row[:3] for row in history[1:]] == [["Higgs boson", "p1", "2"], ["Higgs boson", "p2", "1"]]
    subs = section(html, "submissions")
    by_id = {row[0]: row for row in cells(subs)[1:]}
    assert by_id[f"#{data.alice}"][1:3] == ["higgs / p1", "scored"]
    assert by_id[f"#{data.alice}"][4:6] == ["accuracy 0.9000 loss 1.0000"] * 2
    assert by_id[f"#{data.alice_closed}"][5] == "hidden until the phase ends"  # p2 shows no private score
    assert page.notebook_link(clustering) in subs and page.diff_link(clustering) in subs
    assert "1–3 of 3" in plain(subs) and "Older" not in subs
    ranks = cells(section(html, "ranks"))
    assert ranks[0][-1] == "private Δ from public"
    assert ["higgs", "p1", "main", "private", "1 of 3", "= unchanged"] in ranks
    assert ["higgs", "p1", "main", "public", "1 of 3", "—"] in ranks
    rewards = cells(section(html, "rewards"))
    assert ["higgs", "310 points"] in rewards
    assert [row[2:5] for row in rewards if len(row) == 6][1:] == [
        ["grant (live)", "+10 points", "accuracy ≥ 0.9"],
        ["grant (settlement)", "+300 points", "rank-prize"],
    ]
    skills = cells(section(html, "skills"))
    assert skills[0] == ["skill", "percentile here", "strength", "evidence"]
    clustering_row = next(row for row in skills if row[0] == "clustering")
    assert (
        clustering_row[1] == "100"
        and f"code: higgs/p1 submission {clustering} sklearn.cluster" in clustering_row[3]
    )
    assert page.link("people", skill="clustering") in section(html, "skills")
    assert "accuracy ≥ 0.9 · higgs / p1" in plain(section(html, "achievements"))
    assert "Likes received: 0" in plain(section(html, "likes"))
    credentials = section(html, "credentials")
    assert f"{page.SERVICE}api/people/alice/credentials" in credentials
    assert "No credential imported from another instance." in credentials


def test_profile_fields_are_text_and_links_only_http(served):
    html = profile.render({"id": "alice"})
    assert "<script>" not in html and "<b>friends" not in html
    assert f"<h1>Alice {page.text(HOSTILE)}</h1>" in html
    assert "CERN &amp; &lt;b&gt;friends&lt;/b&gt;" in html
    assert '<a href="https://orcid.org/0000-0002-1825-0097"' in html
    assert 'href="https://example.org/a?b=1&amp;c=&quot;2&quot;"' in html
    about = profile.about(
        profile.ProfileOut.model_validate(
            {
                **profile_of(served).model_dump(),
                "display_name": "x" * 300,
                "links": ["javascript:alert(1)"],
            }
        )
    )
    assert f"<h1>{'x' * (DISPLAY_NAME_MAX - 1)}…</h1>" in about
    assert "javascript:alert(1)" in about and 'href="javascript' not in about


def profile_of(served) -> profile.ProfileOut:
    with page.client() as client:
        return client.profile("alice")


def test_submissions_page_on_with_newer_and_older_links(served):
    first = profile.render({"id": "erin"})
    assert f"1–{profile.PER_PAGE} of {ERINS}" in plain(section(first, "submissions"))
    older = page.link("profile", id="erin", offset=profile.PER_PAGE)
    assert page.text(older) in first and "Newer" not in first
    second = profile.render({"id": "erin", "offset": str(profile.PER_PAGE)})
    shown = section(second, "submissions")
    assert f"{profile.PER_PAGE + 1}–{ERINS} of {ERINS}" in plain(shown)
    assert len(cells(shown)) - 1 == ERINS - profile.PER_PAGE
    assert f'href="{page.text(page.link("profile", id="erin"))}">◀ Newer' in shown and "Older" not in shown
    assert profile.render({"id": "erin", "offset": "many"}) == first  # a bad offset is the first page


def test_credit_lists_the_commits_that_earned_it(served):
    alice = profile_of(served)
    earned = PhaseCreditOut(
        challenge="higgs",
        phase="p1",
        measure="main.accuracy",
        split="public",
        credit=0.4,
        commits=[
            CreditCommitOut(
                commit="a" * 40,
                notebook="solutions/alice/main.ipynb",
                submission=7,
                metric="accuracy",
                increment=0.4,
                credit=0.4,
            )
        ],
    )
    html = profile.credit([earned])
    assert "higgs / p1: 0.4000 on main.accuracy (public)" in plain(html)
    assert cells(html)[1] == [
        "aaaaaaaaaa",
        "solutions/alice/main.ipynb",
        "#7 · diff",
        "accuracy",
        "0.4000",
        "0.4000",
    ]
    assert page.text(page.link("graph", id="higgs", phase="p1")) in html and page.diff_link(7) in html
    assert "No credit yet." in profile.credit(alice.credit)


def test_imported_credentials_are_marked_with_their_issuer(served):
    now = datetime(2026, 1, 2, tzinfo=UTC)
    imported = ImportedCredentialOut(
        id=1,
        issuer=f"https://b.example/{HOSTILE}",
        issued_to="alice-b",
        kind="achievement",
        name="n" * 400,
        skills=["clustering"],
        evidence_url="javascript:alert(1)",
        issued_at=now,
        expires_at=now + timedelta(days=365),
        imported_at=now,
    )
    html = profile.credentials("alice", [imported])
    assert "<script>" not in html and 'href="javascript' not in html
    row = cells(html)[1]
    assert row[0] == f"from elsewhere : https://b.example/{HOSTILE}"
    assert row[2:5] == ["achievement", "n" * (profile.SHOWN_MAX - 1) + "…", "clustering"]
    assert row[5] == "2026-01-02 00:00 UTC – 2027-01-02 00:00 UTC"


@pytest.mark.parametrize("person", ["bob", "nobody"])
def test_a_hidden_or_unknown_person_is_not_found(served, person):
    with pytest.raises(CoopClientError) as raised:
        profile.render({"id": person})
    assert raised.value.status == 404
    shown = page.problem_page(raised.value, "person")
    assert "No such person" in shown and "Traceback" not in shown


def test_no_name_is_not_found(served):
    with pytest.raises(page.NotFound) as raised:
        profile.render({})
    assert "No person was named in the address" in page.problem_page(raised.value, "person")


def test_the_private_delta_in_words():
    assert [profile.delta(d) for d in (3, -2, 0, None)] == ["▲ up 3", "▼ down 2", "= unchanged", "—"]
