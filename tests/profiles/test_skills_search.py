"""Skills with evidence, percentiles among holders, and the weighted search that explains itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scorer.exceptions import InvalidSearch
from scorer.profiles.search import MAX_LIMIT, Query, parse_weights, search
from scorer.profiles.skills import (
    ChallengeTags,
    Earned,
    Facts,
    ScoredWork,
    Standing,
    merged_table,
    module_skills,
    skill_index,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TABLE = merged_table()
TAGS = {
    "trackml": ChallengeTags(("particle-physics", "tracking"), ("clustering", "numpy")),
    "higgs": ChallengeTags(("particle-physics",), ("binary-classification",)),
}


def work(
    sid: int, person: str, modules: set[str], challenge: str = "trackml", phase: str = "p1", days: int = 0
):
    return ScoredWork(sid, person, challenge, phase, T0 + timedelta(days=days), frozenset(modules))


def facts(*items: ScoredWork, people: tuple[str, ...] = (), **extra) -> Facts:
    names = tuple(sorted({w.person for w in items} | set(people)))
    return Facts(names, items, tags=extra.pop("tags", TAGS), **extra)


def test_the_table_maps_a_module_and_its_parents() -> None:
    assert module_skills({"sklearn.cluster._dbscan"}, TABLE) == {"machine-learning", "clustering"}
    assert module_skills({"json", "pathlib"}, TABLE) == set()
    assert merged_table({"trackml_tools": "tracking"})["trackml_tools"] == "tracking"
    assert merged_table({"numpy": "arrays"})["numpy"] == "arrays"  # the operator's entry wins


def test_code_evidence_counts_phases_not_resubmissions() -> None:
    many = [work(i, "spammer", {"sklearn.cluster"}, days=i) for i in range(1, 30)]
    index = skill_index(facts(*many, work(100, "steady", {"sklearn.cluster"}, phase="p2")), TABLE)
    skill = index.people["spammer"].skills["clustering"]
    assert [(e.kind, e.submission_id, e.detail) for e in skill.evidence if e.kind == "code"] == [
        ("code", 29, "sklearn.cluster")  # the newest of the phase
    ]


def test_a_specialist_is_not_ranked_below_a_generalist_on_their_specialty() -> None:
    specialist = [work(i, "sam", {"sklearn.cluster"}, phase=f"p{i}") for i in range(1, 6)]
    generalist = [work(10, "gil", {"sklearn.cluster", "torch", "numba", "scipy.optimize", "pandas"})]
    index = skill_index(facts(*specialist, *generalist, tags={}), TABLE)
    sam, gil = index.people["sam"].skills, index.people["gil"].skills
    assert sam["clustering"].percentile > gil["clustering"].percentile
    assert sam["clustering"].percentile == 100.0
    assert set(gil) > set(sam)  # the generalist has more skills, each only among its holders
    assert gil["deep-learning"].percentile == 100.0  # alone with it
    page = search(index, Query({"clustering": 1, "deep-learning": 1}))
    assert [row.person for row in page.rows] == ["gil", "sam"]  # asked for both
    page = search(index, Query({"clustering": 1}))
    assert [row.person for row in page.rows] == ["sam", "gil"]


def test_challenge_tags_are_weighted_by_rank_and_credit() -> None:
    items = [work(1, "ann", set()), work(2, "ben", set()), work(3, "cat", set())]
    standings = tuple(
        Standing(p, "trackml", "p1", "main", "public", r, 3) for r, p in enumerate(["ann", "ben", "cat"], 1)
    )
    earned = (Earned(7, "cat", "trackml", "p1", "credit-share", 100.0, 3),)
    index = skill_index(facts(*items, standings=standings, earned=earned), TABLE)
    raw = {p: index.people[p].skills["clustering"].raw for p in ("ann", "ben", "cat")}
    assert raw == {"ann": 2.0, "ben": 1.5, "cat": 2.0}  # 1 + rank quality + share of the credit
    (evidence,) = index.people["cat"].skills["clustering"].evidence
    assert evidence.kind == "challenge"
    assert evidence.detail == "scored work; rank 3 of 3 (p1, public, main); 100% of the credit"
    assert index.people["ann"].skills["rank:trackml"].percentile == 100.0
    assert index.people["cat"].skills["rank:trackml"].raw == 0.0


def test_measured_skills_come_from_grants() -> None:
    earned = (
        Earned(5, "ann", "higgs", "p1", "limited-hardware", 5.0, 1),
        Earned(6, "ann", "higgs", "p1", "new-record", 1, 1),
    )
    index = skill_index(facts(work(1, "ann", set(), "higgs"), earned=earned), TABLE)
    (evidence,) = index.people["ann"].skills["fast"].evidence
    assert (evidence.kind, evidence.reward_id, evidence.detail) == ("measured", 5, "limited-hardware")


def test_imported_credentials_count_marked_as_from_elsewhere() -> None:
    index = skill_index(
        facts(people=("ann",), imported=(("ann", "https://other.example", "clustering"),)), TABLE
    )
    (evidence,) = index.people["ann"].skills["clustering"].evidence
    assert (evidence.kind, evidence.detail) == ("imported", "https://other.example")


def test_every_row_explains_its_score() -> None:
    items = [
        work(1, "ann", {"sklearn.cluster", "numpy"}),
        work(2, "ben", {"numpy"}, phase="p2"),
        work(3, "ben", {"numpy"}, phase="p3"),
    ]
    index = skill_index(facts(*items, tags={}), TABLE)
    page = search(index, Query(parse_weights(["clustering=2", "numpy"])))
    assert [row.person for row in page.rows] == ["ann", "ben"]
    ann = page.rows[0]
    assert [(t.skill, t.weight, t.percentile, t.contribution) for t in ann.terms] == [
        ("clustering", 2.0, 100.0, 66.667),
        ("numpy", 1.0, 50.0, 16.667),
    ]
    assert ann.score == pytest.approx(83.333)
    assert ann.terms[0].evidence[0].submission_id == 1
    ben = page.rows[1]
    assert (ben.terms[0].counted, ben.terms[0].contribution, ben.terms[1].evidence_count) == (False, 0.0, 2)


def test_filters_domains_challenges_recency_and_min_percentile() -> None:
    items = [
        work(1, "ann", {"numpy"}, "trackml", days=1),
        work(2, "ben", {"numpy"}, "higgs", days=10),
        work(3, "cat", {"numpy"}, "higgs", phase="p2", days=20),
        work(4, "cat", {"numpy"}, "higgs", phase="p3", days=20),
    ]
    index = skill_index(
        facts(*items, tags={**TAGS, "higgs": ChallengeTags(("particle-physics",), ())}), TABLE
    )

    def people(**kw) -> list[str]:
        return [row.person for row in search(index, Query({"numpy": 1}, **kw)).rows]

    assert people(domains=("tracking",)) == ["ann"]
    # ann: numpy in code and in trackml's tags (2); cat: in two phases (2); ben: once (1)
    assert people(domains=("particle-physics",)) == ["ann", "cat", "ben"]
    assert people(challenges=("higgs",)) == ["cat", "ben"]
    assert people(since=T0 + timedelta(days=5)) == ["cat", "ben"]
    assert people(min_percentile=90) == ["ann", "cat"]
    assert [r.person for r in search(index, Query(domains=("tracking",))).rows] == [
        "ann"
    ]  # no skills: filters only


def test_pages() -> None:
    items = [
        work(i, f"p{i:02}", {"numpy"} | ({"pandas"} if i % 2 else set()), phase=f"x{i % 3}")
        for i in range(25)
    ]
    index = skill_index(facts(*items, tags={}), TABLE)
    first = search(index, Query({"numpy": 1, "pandas": 1}, limit=10))
    second = search(index, Query({"numpy": 1, "pandas": 1}, offset=10, limit=10))
    everyone = search(index, Query({"numpy": 1, "pandas": 1}, limit=MAX_LIMIT))
    assert first.total == second.total == 25
    assert [r.person for r in first.rows + second.rows] == [r.person for r in everyone.rows[:20]]
    assert [r.score for r in everyone.rows] == sorted((r.score for r in everyone.rows), reverse=True)


def test_an_unknown_skill_is_an_empty_result_with_a_note() -> None:
    index = skill_index(facts(work(1, "ann", {"numpy"})), TABLE)
    page = search(index, Query({"numpy": 1, "telepathy": 1}))
    assert page.rows == () and page.total == 0
    assert "telepathy" in page.notes[0]
    assert search(index, Query({"deep-learning": 1})).notes == ()  # known, nobody has it yet
    assert search(index, Query({"rank:trackml": 1})).notes == ()


@pytest.mark.parametrize(
    "query",
    [
        Query({"numpy": 0}),
        Query({"numpy": 11}),
        Query({"numpy": float("nan")}),
        Query({"numpy": -1}),
        Query(limit=0),
        Query(limit=MAX_LIMIT + 1),
        Query(offset=-1),
        Query(min_percentile=101),
        Query({f"s{i}": 1 for i in range(21)}),
        Query({"x" * 101: 1}),
        Query(domains=("d" * 101,)),
        Query(challenges=tuple(f"c{i}" for i in range(21))),
    ],
)
def test_bounds(query: Query) -> None:
    with pytest.raises(InvalidSearch):
        search(skill_index(facts(work(1, "ann", {"numpy"})), TABLE), query)


def test_parse_weights() -> None:
    assert parse_weights(["clustering:2", "numpy", "rank:trackml", "rank:higgs=0.5", "x=3"]) == {
        "clustering": 2.0,
        "numpy": 1.0,
        "rank:trackml": 1.0,
        "rank:higgs": 0.5,
        "x": 3.0,
    }
    for bad in (["numpy=lots"], ["=2"], ["numpy", "numpy:2"]):
        with pytest.raises(InvalidSearch):
            parse_weights(bad)
