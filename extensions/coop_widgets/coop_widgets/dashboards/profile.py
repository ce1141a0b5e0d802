"""The profile page (``profile.ipynb?id=<person>&offset=<n>``): who the person says they are, then
their whole history here (phases joined, submissions a page at a time, best ranks with the
private Δ, rewards and balances, credit with the commits that earned it, skills with evidence
and percentile, achievements, likes) and the credentials imported from other instances, each
marked with its issuer. A hidden or unknown person is the friendly "No such person" page.

Everything a person or another instance wrote is shown as text, escaped and cut to the
service's limits (:func:`clip`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import quote, urlsplit

from coop_client.models import (
    AFFILIATION_MAX,
    DISPLAY_NAME_MAX,
    LINK_MAX,
    LINKS_MAX,
    ImportedCredentialOut,
    JoinedPhaseOut,
    PhaseCreditOut,
    ProfileBalanceOut,
    ProfileOut,
    ProfileSkillOut,
    RankOut,
    RewardOut,
    SubmissionPageOut,
)
from coop_widgets._html import moment, number
from coop_widgets.dashboards import page
from coop_widgets.people import evidence_text

#: Submissions on one page: the size of the profile's own first page.
PER_PAGE = 20
#: The longest text kept from an imported credential or a link shown as text.
SHOWN_MAX = 120
#: The sections, in page order: (anchor, heading).
SECTIONS = (
    ("history", "History"),
    ("submissions", "Submissions"),
    ("ranks", "Best ranks"),
    ("rewards", "Rewards and balance"),
    ("credit", "Credit"),
    ("skills", "Skills"),
    ("achievements", "Achievements"),
    ("likes", "Likes"),
    ("credentials", "Credentials"),
)


def main() -> None:
    """Display the page the address asks for."""
    page.show(lambda: render(page.query()), current="profile", missing="person")


def render(params: Mapping[str, str]) -> str:
    """The page for the address's ``id`` (the person's hub name) and ``offset`` (submissions)."""
    name = page.need(params, "id", "person")
    offset = page.offset(params)
    with page.client() as client:
        profile = client.profile(name)
        submissions = (
            client.profile_submissions(profile.person, offset=offset, limit=PER_PAGE)
            if offset
            else profile.submissions
        )
    return profile_page(profile, submissions)


def profile_page(profile: ProfileOut, submissions: SubmissionPageOut) -> str:
    """The whole page: the person, a table of contents, then one section per part of their history."""
    bodies = {
        "history": history(profile.joined),
        "submissions": submissions_table(submissions),
        "ranks": ranks(profile.ranks),
        "rewards": rewards(profile.balances, profile.rewards),
        "credit": credit(profile.credit),
        "skills": skills(profile.skills),
        "achievements": achievements(profile.achievements),
        "likes": likes(profile.likes_given, profile.likes_received),
        "credentials": credentials(profile.person, profile.credentials),
    }
    contents = " · ".join(page.anchor(f"#{key}", heading) for key, heading in SECTIONS)
    sections = "".join(
        f'<section id="{key}" aria-labelledby="{key}-h"><h2 id="{key}-h">{page.text(heading)}</h2>'
        f"{bodies[key]}</section>"
        for key, heading in SECTIONS
    )
    return about(profile) + f'<nav aria-label="Sections">{contents}</nav>' + sections


def about(profile: ProfileOut) -> str:
    """The name, affiliation, ORCID iD and links, as text cut to the service's limits."""
    shown_name = clip(profile.display_name, DISPLAY_NAME_MAX)
    facts = [f"hub name <code>{page.text(profile.person)}</code>"] if shown_name != profile.person else []
    if profile.affiliation:
        facts.append(page.text(clip(profile.affiliation, AFFILIATION_MAX)))
    if profile.orcid:
        facts.append("ORCID iD " + outside_link(f"https://orcid.org/{quote(profile.orcid)}", profile.orcid))
    shown_links = [outside_link(url, url) for url in profile.links[:LINKS_MAX]]
    links = f"<p>Links: {' · '.join(shown_links)}</p>" if shown_links else ""
    hidden = (
        '<p class="coop-notice">Hidden from search and from anonymous viewers.</p>' if profile.hidden else ""
    )
    return (
        f"<h1>{page.text(shown_name)}</h1>"
        + (f"<p>{' · '.join(facts)}</p>" if facts else "")
        + f"{links}{hidden}"
    )


def history(joined: Sequence[JoinedPhaseOut]) -> str:
    if not joined:
        return "<p>No submission yet.</p>"
    rows = [
        [
            page.anchor(page.link("challenge", id=j.challenge), j.title),
            page.anchor(page.link("challenge", id=j.challenge, phase=j.phase), j.phase),
            str(j.submissions),
            page.text(moment(j.first_at)),
            page.text(moment(j.last_at)),
        ]
        for j in joined
    ]
    return page.table(["challenge", "phase", "submissions", "first", "last"], rows, numeric=[2])


def submissions_table(shown: SubmissionPageOut) -> str:
    """One page of submissions, newest first, with status, scores and pages before and after."""
    if not shown.submissions:
        return "<p>No submission on this page.</p>" if shown.total else "<p>No submission yet.</p>"
    rows = [
        [
            page.anchor(page.notebook_link(s.id), f"#{s.id}", title="The executed notebook"),
            page.text(f"{s.challenge} / {s.phase}"),
            f'<span class="coop-state">{page.text(s.status.value)}</span>',
            page.text(moment(s.created_at)),
            scores(s.public),
            scores(s.private) if s.private is not None else "hidden until the phase ends",
            page.anchor(page.diff_link(s.id), "diff", title="Its diff to its parent"),
        ]
        for s in shown.submissions
    ]
    first, last = shown.offset + 1, shown.offset + len(shown.submissions)
    pages = [f"{first}–{last} of {shown.total}"]
    if shown.offset > 0:
        newer = max(0, shown.offset - PER_PAGE)
        pages.insert(0, page.anchor(page.link("profile", id=shown.person, offset=newer or None), "◀ Newer"))
    if shown.next_offset is not None:
        pages.append(page.anchor(page.link("profile", id=shown.person, offset=shown.next_offset), "Older ▶"))
    headers = [
        "submission",
        "challenge / phase",
        "status",
        "submitted",
        "public scores",
        "private scores",
        "",
    ]
    return page.table(headers, rows) + f'<p aria-label="Submission pages">{" · ".join(pages)}</p>'


def scores(values: Mapping[str, float | None]) -> str:
    return "<br>".join(f"{page.text(key)} {number(value)}" for key, value in values.items()) or "—"


def ranks(shown: Sequence[RankOut]) -> str:
    if not shown:
        return "<p>Not on any leaderboard yet.</p>"
    rows = [
        [
            page.anchor(
                page.link("challenge", id=r.challenge, phase=r.phase, board=r.leaderboard), r.challenge
            ),
            page.text(r.phase),
            page.text(r.leaderboard),
            page.text(r.split),
            f"{r.rank} of {r.of}",
            page.text(delta(r.delta)),
        ]
        for r in shown
    ]
    return page.table(
        ["challenge", "phase", "board", "split", "rank", "private Δ from public"], rows, numeric=[4]
    )


def delta(moved: int | None) -> str:
    """A private rank's move from the public one, in words (never by colour alone)."""
    if moved is None:
        return "—"
    if moved > 0:
        return f"▲ up {moved}"
    if moved < 0:
        return f"▼ down {-moved}"
    return "= unchanged"


def rewards(balances: Sequence[ProfileBalanceOut], history: Sequence[RewardOut]) -> str:
    if not history:
        return "<p>No reward yet.</p>"
    held = page.table(
        ["challenge", "balance"],
        [[page.text(b.challenge), page.text(f"{b.amount:g} {b.unit}")] for b in balances],
        numeric=[1],
    )
    rows = [
        [
            page.text(moment(r.at)),
            page.anchor(page.link("rewards", id=r.challenge, phase=r.phase), f"{r.challenge} / {r.phase}"),
            page.text(reward_kind(r)),
            page.text(f"{r.amount:+g} {r.unit}"),
            page.text(r.rule or r.rewarder),
            page.anchor(page.notebook_link(r.submission), f"#{r.submission}") if r.submission else "—",
        ]
        for r in history
    ]
    return held + page.table(
        ["when", "challenge / phase", "kind", "amount", "why", "submission"], rows, numeric=[3]
    )


def reward_kind(reward: RewardOut) -> str:
    if reward.kind == "compensation":
        why = f": {reward.reason}" if reward.reason else ""
        return f"compensation, takes back #{reward.compensates}{why}"
    return f"grant ({reward.moment})"


def credit(phases: Sequence[PhaseCreditOut]) -> str:
    """Per phase: the credit earned and each commit that earned it, with the score gain it brought."""
    if not phases:
        return "<p>No credit yet.</p>"
    parts = []
    for c in phases:
        graph = page.anchor(page.link("graph", id=c.challenge, phase=c.phase), "contribution graph")
        parts.append(
            f"<h3>{page.text(f'{c.challenge} / {c.phase}')}: {number(c.credit)} on "
            f"{page.text(c.measure)} ({page.text(c.split)})</h3><p>See the {graph}.</p>"
        )
        rows = [
            [
                f"<code>{page.text(commit.commit[:10])}</code>",
                page.text(commit.notebook),
                page.anchor(page.notebook_link(commit.submission), f"#{commit.submission}")
                + " · "
                + page.anchor(page.diff_link(commit.submission), "diff"),
                page.text(commit.metric),
                number(commit.increment),
                number(commit.credit),
            ]
            for commit in c.commits
        ]
        parts.append(
            page.table(
                ["commit", "notebook", "submission", "metric", "increment", "credit"], rows, numeric=[4, 5]
            )
        )
    return "".join(parts)


def skills(shown: Sequence[ProfileSkillOut]) -> str:
    if not shown:
        return "<p>No skill proven here yet (or the profile is hidden from search).</p>"
    rows = []
    for s in shown:
        items = [evidence_text(e) for e in s.evidence]
        more = s.evidence_count - len(s.evidence)
        items += [f"and {more} more"] if more > 0 else []
        evidence = "<ul>" + "".join(f"<li>{page.text(item)}</li>" for item in items) + "</ul>"
        rows.append(
            [
                page.anchor(page.link("people", skill=s.skill), s.skill, title="People with this skill"),
                f"{s.percentile:g}",
                number(s.strength, 2),
                evidence,
            ]
        )
    return page.table(["skill", "percentile here", "strength", "evidence"], rows, numeric=[1, 2])


def achievements(shown: Sequence[RewardOut]) -> str:
    if not shown:
        return "<p>No achievement yet.</p>"
    items = "".join(
        f"<li>{page.text(a.rule or a.rewarder)} · {page.text(f'{a.challenge} / {a.phase}')} · "
        f"{page.text(moment(a.at))}</li>"
        for a in shown
    )
    return f"<ul>{items}</ul>"


def likes(given: Sequence[int], received: int) -> str:
    liked = ", ".join(page.anchor(page.notebook_link(s), f"#{s}") for s in given) or "none"
    return f"<p>Likes received: {received}</p><p>Likes given to: {liked}</p>"


def credentials(person: str, imported: Sequence[ImportedCredentialOut]) -> str:
    """The imported credentials, each marked with its issuer, and where this instance's are."""
    exported = page.anchor(
        f"{page.SERVICE}api/people/{quote(person, safe='')}/credentials", "Exported credentials"
    )
    keys = page.anchor(f"{page.HUB_ROOT}.well-known/jwks.json", "this instance's public keys")
    own = (
        f"<p>{exported}: {page.text(person)}'s achievements, rewards and credit as signed Open Badges "
        f"3.0 credentials (only {page.text(person)}, logged in, can download them); they verify "
        f"against {keys}.</p>"
    )
    if not imported:
        return own + "<p>No credential imported from another instance.</p>"
    rows = [
        [
            f"<strong>from elsewhere</strong>: {page.text(clip(c.issuer, SHOWN_MAX))}",
            page.text(clip(c.issued_to, SHOWN_MAX)),
            page.text(c.kind),
            page.text(clip(c.name, SHOWN_MAX)),
            page.text(clip(", ".join(c.skills), SHOWN_MAX)),
            page.text(f"{moment(c.issued_at)} – {moment(c.expires_at)}"),
            outside_link(c.evidence_url, "evidence"),
        ]
        for c in imported
    ]
    return own + page.table(["issuer", "issued to", "kind", "name", "skills", "valid", "evidence"], rows)


def outside_link(url: str, label: str) -> str:
    """A link leaving the dashboards (only http(s)); its label cut short, both escaped."""
    shown = page.text(clip(label, SHOWN_MAX))
    if len(url) > LINK_MAX or urlsplit(url).scheme not in {"http", "https"}:
        return shown
    return f'<a href="{page.text(url)}" rel="nofollow noopener noreferrer">{shown}</a>'


def clip(value: str, limit: int) -> str:
    """``value`` cut to ``limit`` characters (an ellipsis shows it was)."""
    return value if len(value) <= limit else value[: limit - 1] + "…"
