"""Each built-in rewarder's decision: first time only, noise thresholds, both directions,
live on public and settlement on private scores, self-likes never counted."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scorer.rewards.progress import hypervolume
from scorer.rewards.views import Live, Settlement, Standing, Verdict
from tests.rewards.views import phase, replay, rewarder, settle, sub


def test_score_threshold_pays_each_person_once_the_first_time_they_pass():
    r = rewarder("score-threshold", 10, 0.9, metric="accuracy")
    subs = [
        sub(1, "alice", {"accuracy": 0.8}),
        sub(2, "alice", {"accuracy": 0.9}),  # reaching it is passing it
        sub(3, "alice", {"accuracy": 0.95}),
        sub(4, "bob", {"accuracy": 0.91}),
        sub(5, "bob", {"accuracy": 0.99}),
    ]
    assert replay(r, subs) == [(2, "alice"), (4, "bob")]
    [grant] = r.decide(Live(phase(), subs[1], tuple(subs[:1])))
    assert (grant.amount, grant.unit, grant.rewarder, grant.index) == (10, "points", "score-threshold", 0)
    assert grant.key == "curve/phase-1/0/person/alice"
    assert grant.evidence.rule == "accuracy ≥ 0.9" and grant.evidence.values == {"accuracy": 0.9}
    assert (grant.evidence.commit, grant.evidence.split, grant.evidence.moment) == (
        subs[1].commit,
        "public",
        "live",
    )


def test_score_threshold_on_a_minimised_metric_means_at_most():
    r = rewarder("score-threshold", 10, 0.2, metric="rmse")
    subs = [sub(1, "alice", {"rmse": 0.3}), sub(2, "alice", {"rmse": 0.2}), sub(3, "bob", {"rmse": 0.25})]
    assert replay(r, subs) == [(2, "alice")]
    assert r.decide(Live(phase(), subs[1], tuple(subs[:1])))[0].evidence.rule == "rmse ≤ 0.2"


def test_score_threshold_at_settlement_reads_private_scores_and_ignores_live_events():
    r = rewarder("score-threshold", 10, 0.9, metric="accuracy", moment="settlement")
    subs = [
        sub(1, "alice", {"accuracy": 0.95}, {"accuracy": 0.85}),  # passes in public only
        sub(2, "alice", {"accuracy": 0.5}, {"accuracy": 0.92}),
    ]
    assert replay(r, subs) == []
    [grant] = settle(r, subs)
    assert (grant.evidence.submission, grant.evidence.split, grant.evidence.moment) == (
        2,
        "private",
        "settlement",
    )


def test_a_board_column_is_read_like_a_metric():
    r = rewarder("score-threshold", 1, 0.5, leaderboard="board", column="score")
    assert replay(r, [sub(1, "alice", {"board.score": 0.4}), sub(2, "alice", {"board.score": 0.6})]) == [
        (2, "alice")
    ]


def test_beat_baseline_goes_to_the_first_to_beat_it_by_more_than_the_noise():
    r = rewarder("beat-baseline", 20, metric="accuracy")
    base = phase({"accuracy": 0.70})
    subs = [
        sub(1, "alice", {"accuracy": 0.705}),  # within the noise threshold (0.01)
        sub(2, "bob", {"accuracy": 0.72}),
        sub(3, "carol", {"accuracy": 0.90}),
    ]
    assert replay(r, subs, base) == [(2, "bob")]
    [grant] = r.decide(Live(base, subs[1], tuple(subs[:1])))
    assert grant.key == "curve/phase-1/0/first" and grant.evidence.values["baseline"] == 0.70
    assert replay(r, subs) == []  # no baseline score: nothing to beat


def test_beat_baseline_on_a_minimised_metric():
    r = rewarder("beat-baseline", 20, metric="rmse")
    base = phase({"rmse": 0.5})
    assert replay(r, [sub(1, "a", {"rmse": 0.46}), sub(2, "b", {"rmse": 0.44})], base) == [(2, "b")]


def test_new_record_pays_each_new_best_by_more_than_the_noise():
    r = rewarder("new-record", 5, metric="accuracy")
    subs = [
        sub(1, "alice", {"accuracy": 0.60}),  # below the baseline
        sub(2, "alice", {"accuracy": 0.75}),
        sub(3, "bob", {"accuracy": 0.755}),  # a tweak below the noise
        sub(4, "bob", {"accuracy": 0.80}),
        sub(5, "carol", {"accuracy": 0.79}),
    ]
    assert replay(r, subs, phase({"accuracy": 0.70})) == [(2, "alice"), (4, "bob")]
    assert replay(r, subs)[0] == (1, "alice")  # without a baseline the first score is a record
    r = rewarder("new-record", 5, metric="rmse")
    subs = [sub(1, "a", {"rmse": 1.0}), sub(2, "b", {"rmse": 0.9}), sub(3, "c", {"rmse": 0.97})]
    assert replay(r, subs) == [(1, "a"), (2, "b")]


def test_rank_prize_pays_private_ranks_within_its_amounts():
    r = rewarder("rank-prize", 600, leaderboard="main", amounts=[300, 200, 100])
    standings = {"main": tuple(Standing(i, p, i, 1 - i / 10) for i, p in enumerate("abcd", start=1))}
    grants = settle(r, [], standings=standings)
    assert [(g.person, g.amount) for g in grants] == [("a", 300), ("b", 200), ("c", 100)]
    assert grants[0].key == "curve/phase-1/0/rank/1/a" and grants[0].evidence.split == "private"
    assert r.decide(Live(phase(), sub(1, "a"))) == []  # never live
    assert settle(r, [], standings={"other": standings["main"]}) == []


def test_credit_share_splits_the_pool_by_positive_credit():
    r = rewarder("credit-share", 100, metric="accuracy")
    credit = {"accuracy": {"alice": 0.3, "bob": 0.1, "carol": 0.0, "dan": -0.05}}
    grants = settle(r, [], credit=credit)
    assert [(g.person, g.amount) for g in grants] == [
        ("alice", pytest.approx(75)),
        ("bob", pytest.approx(25)),
    ]
    assert grants[0].evidence.values == {"credit": 0.3, "total_credit": pytest.approx(0.4)}
    assert settle(r, [], credit={"rmse": credit["accuracy"]}) == []


@given(st.dictionaries(st.sampled_from("abcdefgh"), st.floats(-1, 1, allow_nan=False), max_size=8))
def test_credit_share_pays_the_whole_pool_or_nothing(table):
    grants = settle(rewarder("credit-share", 100, metric="accuracy"), [], credit={"accuracy": table})
    paid = sum(g.amount for g in grants)
    assert paid == pytest.approx(100) if any(c > 0 for c in table.values()) else paid == 0
    assert all(g.amount > 0 for g in grants)


def test_improvement_pays_per_unit_of_gain_over_ones_own_best():
    r = rewarder("improvement", 1, metric="accuracy", per=0.01, max_amount=20)
    subs = [
        sub(1, "alice", {"accuracy": 0.70}),  # sets her best
        sub(2, "bob", {"accuracy": 0.95}),  # others' scores do not count
        sub(3, "alice", {"accuracy": 0.75}),
        sub(4, "alice", {"accuracy": 0.755}),  # below the noise
        sub(5, "alice", {"accuracy": 0.74}),  # worse
        sub(6, "alice", {"accuracy": 1.0}),  # capped
    ]
    grants = [g for i, s in enumerate(subs) for g in r.decide(Live(phase(), s, tuple(subs[:i])))]
    assert [(g.evidence.submission, round(g.amount, 6)) for g in grants] == [(3, 5.0), (6, 20.0)]


def test_improvement_on_a_minimised_metric():
    r = rewarder("improvement", 2, metric="rmse", per=0.1)
    subs = [sub(1, "a", {"rmse": 0.5}), sub(2, "a", {"rmse": 0.3})]
    [grant] = r.decide(Live(phase(), subs[1], subs[:1]))
    assert grant.amount == pytest.approx(4.0) and grant.evidence.values["gain"] == pytest.approx(0.2)


def test_limited_hardware_needs_the_score_under_every_cap_as_measured():
    r = rewarder("limited-hardware", 50, 0.8, metric="accuracy", max_time=30, max_memory="1GiB")
    subs = [
        sub(1, "alice", {"accuracy": 0.9}, time=31, memory=100),  # too slow
        sub(2, "alice", {"accuracy": 0.9}, time=20, memory=2048),  # too much memory
        sub(3, "alice", {"accuracy": 0.9}),  # not measured: does not qualify
        sub(4, "alice", {"accuracy": 0.7}, time=5, memory=100),  # too low
        sub(5, "alice", {"accuracy": 0.85}, time=30, memory=1024),
        sub(6, "alice", {"accuracy": 0.95}, time=1, memory=10),  # once per person
    ]
    assert replay(r, subs) == [(5, "alice")]
    [grant] = r.decide(Live(phase(), subs[4], subs[:4]))
    assert grant.evidence.rule == "accuracy ≥ 0.8 with time ≤ 30, memory ≤ 1024"
    per_event = rewarder("limited-hardware", 50, 0.8, metric="accuracy", max_time_per_event=0.5)
    assert replay(
        per_event,
        [
            sub(1, "a", {"accuracy": 0.9, "time_per_event": 0.6}),
            sub(2, "a", {"accuracy": 0.9, "time_per_event": 0.4}),
        ],
    ) == [(2, "a")]


def test_pareto_front_pays_the_hypervolume_a_submission_adds():
    r = rewarder("pareto-front", 1, metric="accuracy", cost="time", reference=0.5, cost_reference=100)
    subs = [
        sub(1, "alice", {"accuracy": 0.9}, time=50),  # (0.4 x 50) = 20
        sub(2, "bob", {"accuracy": 0.8}, time=60),  # dominated
        sub(3, "bob", {"accuracy": 0.7}, time=10),  # faster: adds 0.2 x 40 = 8
        sub(4, "carol", {"accuracy": 0.905}, time=49),  # 0.005 x 51 + 0.2 x 1
    ]
    grants = [g for i, s in enumerate(subs) for g in r.decide(Live(phase(), s, tuple(subs[:i])))]
    assert [(g.evidence.submission, round(g.amount, 9)) for g in grants] == [(1, 20.0), (3, 8.0), (4, 0.455)]
    outside = sub(5, "dan", {"accuracy": 0.4}, time=1)  # worse than the reference accuracy
    assert r.decide(Live(phase(), outside, tuple(subs))) == []


def test_a_point_within_both_noise_thresholds_of_an_earlier_one_earns_nothing():
    r = rewarder("pareto-front", 1, metric="accuracy", cost="memory", reference=0.0, cost_reference=1000)
    first = sub(1, "a", {"accuracy": 0.9}, memory=500)
    close = sub(2, "b", {"accuracy": 0.905}, memory=500)  # the accuracy's noise is 0.01, memory's 0
    assert r.decide(Live(phase(), close, (first,))) == []
    assert r.decide(Live(phase(), sub(3, "c", {"accuracy": 0.905}, memory=499), (first,)))


@given(
    st.lists(st.tuples(st.floats(0, 10), st.floats(0, 10)), max_size=12),
    st.tuples(st.floats(0, 10), st.floats(0, 10)),
)
def test_hypervolume_never_shrinks_when_a_point_is_added(points, new):
    before = hypervolume(points, (0.0, 0.0))
    after = hypervolume([*points, new], (0.0, 0.0))
    assert after >= before - 1e-9
    assert after <= before + new[0] * new[1] + 1e-9


def test_peer_likes_counts_others_only_and_pays_each_level_once_per_submission():
    r = rewarder("peer-likes", 5, levels=[2, 3])
    liked = sub(1, "alice", likers=frozenset({"alice", "bob", "carol"}))  # her own like does not count
    grants = r.decide(Live(phase(), liked))
    assert [(g.key, g.evidence.values["likes"]) for g in grants] == [("curve/phase-1/0/likes/1/2", 2)]
    more = sub(1, "alice", likers=frozenset({"alice", "bob", "carol", "dan"}))
    assert [g.key for g in r.decide(Live(phase(), more))] == [
        "curve/phase-1/0/likes/1/2",
        "curve/phase-1/0/likes/1/3",
    ]


def test_reproduced_needs_another_worker_and_the_same_metrics_within_tolerance():
    r = rewarder("reproduced", 5, tolerance=1e-6)
    original = sub(1, "alice", {"accuracy": 0.9}, {"accuracy": 0.8}, worker="w1")
    same = sub(2, "alice", {"accuracy": 0.9 + 1e-7}, {"accuracy": 0.8}, worker="w2", commit=original.commit)
    [grant] = r.decide(Live(phase(), original, rerun=same))
    assert grant.person == "alice" and grant.key == "curve/phase-1/0/submission/1"
    assert set(grant.evidence.values) == {"public.accuracy", "private.accuracy"}
    on_same_worker = sub(
        2, "alice", {"accuracy": 0.9}, {"accuracy": 0.8}, worker="w1", commit=original.commit
    )
    assert r.decide(Live(phase(), original, rerun=on_same_worker)) == []
    differs = sub(2, "alice", {"accuracy": 0.9}, {"accuracy": 0.81}, worker="w2", commit=original.commit)
    other_commit = sub(2, "alice", {"accuracy": 0.9}, {"accuracy": 0.8}, worker="w2")
    assert r.decide(Live(phase(), original, rerun=other_commit)) == []
    assert r.decide(Live(phase(), original, rerun=differs)) == []
    assert r.decide(Live(phase(), original)) == []


def test_organiser_check_acts_on_the_verdict_it_is_given():
    r = rewarder("organiser-check", 30, 0.8, index=3, function="checks.py:single_model", metric="accuracy")
    good = sub(1, "alice", {"accuracy": 0.9})
    [grant] = r.decide(Live(phase(), good, verdicts={3: Verdict(True, "one estimator")}))
    assert grant.evidence.rule == "checks.py:single_model passed: one estimator; accuracy ≥ 0.8"
    assert grant.key == "curve/phase-1/3/person/alice"
    assert r.decide(Live(phase(), good, verdicts={3: Verdict(False, "an ensemble")})) == []
    assert r.decide(Live(phase(), good, verdicts={0: Verdict(True)})) == []  # another rewarder's verdict
    low = sub(2, "alice", {"accuracy": 0.7})
    assert r.decide(Live(phase(), low, verdicts={3: Verdict(True)})) == []


@given(st.lists(st.tuples(st.sampled_from("abc"), st.floats(0, 1)), max_size=15))
def test_live_and_replayed_settlement_agree_and_keys_are_unique(scores):
    subs = [sub(i, p, {"accuracy": v}) for i, (p, v) in enumerate(scores, start=1)]
    for r in (
        rewarder("score-threshold", 1, 0.5, metric="accuracy", moment="settlement"),
        rewarder("new-record", 1, metric="accuracy", moment="settlement"),
        rewarder("improvement", 1, metric="accuracy", moment="settlement"),
    ):
        at_settlement = settle(r, subs)
        live = rewarder(r.type, 1, r.threshold, metric="accuracy")
        assert [g.key for g in at_settlement] == [
            g.key for i, s in enumerate(subs) for g in live.decide(Live(phase(), s, tuple(subs[:i])))
        ]
        assert len({g.key for g in at_settlement}) == len(at_settlement)
        assert settle(r, subs) == at_settlement  # deterministic


def test_grants_of_two_rewarders_never_share_a_key():
    first = rewarder("score-threshold", 1, 0.5, index=0, metric="accuracy")
    second = rewarder("score-threshold", 1, 0.5, index=1, metric="accuracy")
    s = sub(1, "alice", {"accuracy": 0.9})
    [a], [b] = first.decide(Live(phase(), s)), second.decide(Live(phase(), s))
    assert a.key != b.key and a.key.rsplit("/", 3)[0] == b.key.rsplit("/", 3)[0]


def test_a_settlement_view_does_not_trigger_a_live_rewarder():
    assert (
        rewarder("new-record", 1, metric="accuracy").decide(
            Settlement(phase(), (sub(1, "a", {"accuracy": 1}),))
        )
        == []
    )
