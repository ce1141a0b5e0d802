"""The profile's edge: reads a person's profile from the ledger, the leaderboards, the reward
ledger, likes, credit (git), the skill index and imported credentials, as a viewer may see it,
and saves what they say about themselves.

Private scores (submissions, ranks, credit) go through the rule of :mod:`scorer.ledger.queries`;
a hidden profile is :class:`~scorer.exceptions.UnknownPerson` to anyone but its person and
organisers, exactly like a missing one.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Literal

from coop_client.models import ProfileIn
from scorer.challenge.spec import Challenge
from scorer.exceptions import CoopError, UnknownPerson
from scorer.facade import CoopAPI
from scorer.ledger import credentials, likes, profiles, queries, rewards
from scorer.ledger.db import Session, Sessions
from scorer.ledger.profiles import JoinedPhase, ProfileFields
from scorer.ledger.queries import SubmissionScores, SubmissionView
from scorer.profiles.orcid import checked_orcid
from scorer.profiles.profile import (
    BoardStanding,
    PhaseCredit,
    Profile,
    SubmissionPage,
    credit_commits,
    may_view,
    page_window,
    ranks,
    strongest_skills,
)

log = logging.getLogger("coop.profiles")

#: Submissions shown on the profile itself; the rest are paged.
FIRST_PAGE = 20
#: Contribution-graph nodes read per request while collecting a person's credit.
GRAPH_PAGE = 5000


def read_profile(
    api: CoopAPI, name: str, *, viewer: str | None, organiser: bool = False, now: datetime | None = None
) -> Profile:
    """``name``'s profile as ``viewer`` may see it ``now``; :class:`UnknownPerson` when hidden."""
    moment = now or datetime.now(UTC)
    with api.sessions() as session:
        fields = _visible_fields(session, name, viewer, organiser)
        joined = profiles.joined_phases(session, name)
        # a verified co-author earns credit in phases they never submitted to themselves
        credited = dict.fromkeys(
            [(j.challenge_id, j.phase_id) for j in joined] + profiles.coauthored_phases(session, name)
        )
        specs = {cid: queries.load_challenge(session, cid) for cid in queries.challenge_ids(session)}
        page = _page(session, name, 0, FIRST_PAGE, organiser, moment)
        standings = [
            standing
            for j in joined
            for standing in _standings(session, specs[j.challenge_id], j, organiser, moment)
        ]
        history = [r for cid in specs for r in rewards.history(session, cid, person=name)]
        balances = [(cid, b) for cid in specs for b in rewards.balances(session, cid, person=name)]
        given = likes.likes_given(session, name)
        received = sum(likes.likes_received(session, j.challenge_id, j.phase_id).get(name, 0) for j in joined)
        skills = strongest_skills(api.people.person(session, name, now=moment))
        imported = credentials.imported_credentials(session, name)
    return Profile(
        fields=fields,
        joined=joined,
        submissions=page,
        ranks=ranks(name, standings),
        rewards=history,
        balances=balances,
        credit=[c for cid, pid in credited if (c := _credit(api, specs[cid], pid, name, organiser, moment))],
        likes_given=given,
        likes_received=received,
        specs=specs,
        skills=skills,
        credentials=imported,
    )


def read_submissions(
    api: CoopAPI,
    name: str,
    *,
    viewer: str | None,
    organiser: bool = False,
    offset: int = 0,
    limit: int = 100,
    now: datetime | None = None,
) -> SubmissionPage:
    """A page of ``name``'s submissions, newest first, with the scores the viewer may see."""
    with api.sessions() as session:
        _visible_fields(session, name, viewer, organiser)
        start, size = page_window(offset, limit)
        return _page(session, name, start, size, organiser, now or datetime.now(UTC))


def save_profile(sessions: Sessions, name: str, change: ProfileIn) -> ProfileFields:
    """Replace what ``name`` says about themselves; the ORCID iD must be valid (else
    :class:`~scorer.exceptions.InvalidOrcid`, nothing saved)."""
    orcid = checked_orcid(change.orcid) if change.orcid else None
    with sessions.begin() as session:
        return profiles.save_fields(
            session,
            name,
            display_name=change.display_name,
            affiliation=change.affiliation,
            orcid=orcid,
            links=change.links,
            hidden=change.hidden,
        )


def _visible_fields(session: Session, name: str, viewer: str | None, organiser: bool) -> ProfileFields:
    fields = profiles.fields(session, name)
    if not may_view(fields, viewer=viewer, organiser=organiser):
        raise UnknownPerson(name)
    return fields


def _page(
    session: Session, name: str, offset: int, limit: int, organiser: bool, now: datetime
) -> SubmissionPage:
    total = profiles.submission_count(session, name)
    views = queries.submissions(session, username=name, limit=limit, offset=offset)
    return SubmissionPage(name, total, offset, [(v, _scores(session, v, organiser, now)) for v in views])


def _scores(session: Session, view: SubmissionView, organiser: bool, now: datetime) -> SubmissionScores:
    phase = queries.phase_of(queries.load_challenge(session, view.challenge_id), view.phase_id)
    private = queries.private_scores_visible(phase, now=now, viewer_is_organiser=organiser)
    return queries.scores(session, view.id, include_private=private, viewer_is_organiser=organiser, now=now)


def _standings(
    session: Session, spec: Challenge, joined: JoinedPhase, organiser: bool, now: datetime
) -> list[BoardStanding]:
    phase = queries.phase_of(spec, joined.phase_id)
    private = queries.private_scores_visible(phase, now=now, viewer_is_organiser=organiser)
    found = []
    for board in spec.phase_leaderboards(phase):
        args = (session, spec, phase.id, board.key)
        public = queries.leaderboard(*args, viewer_is_organiser=organiser, now=now)
        hidden = (
            queries.leaderboard(*args, split="private", viewer_is_organiser=organiser, now=now)
            if private
            else None
        )
        found.append(
            BoardStanding(
                spec.id,
                phase.id,
                board.key,
                public.rows,
                hidden.rows if hidden else None,
                hidden.rank_changes if hidden else None,
            )
        )
    return found


def _credit(
    api: CoopAPI, spec: Challenge, phase_id: str, name: str, organiser: bool, now: datetime
) -> PhaseCredit | None:
    """The person's credit in a phase on its first board's primary column (private once
    visible), or ``None`` when they earned none or the phase's history cannot be read."""
    phase = queries.phase_of(spec, phase_id)
    private = queries.private_scores_visible(phase, now=now, viewer_is_organiser=organiser)
    split: Literal["public", "private"] = "private" if private else "public"
    commits, measure, offset = [], "", 0
    try:
        while True:
            page = api.contribution_graph(
                spec.id,
                phase.id,
                split=split,
                detail="steps",
                offset=offset,
                limit=GRAPH_PAGE,
                organiser=organiser,
                now=now,
            )
            measure = page.measure
            commits += credit_commits(name, measure, page.nodes)
            if page.next_offset is None:
                break
            offset = page.next_offset
    except CoopError as exc:  # a profile still shows when one phase's history is unreadable
        log.warning("no credit of %s in %s/%s: %s", name, spec.id, phase.id, exc.log_message)
        return None
    if not commits:
        return None
    return PhaseCredit(spec.id, phase.id, measure, split, sum(c.credit for c in commits), commits)
