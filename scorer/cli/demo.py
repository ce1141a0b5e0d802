"""``coop demo``: the shipped challenges, scored end to end, with their leaderboards."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from scorer.challenge import demo as demo_core
from scorer.cli.challenge import print_environments
from scorer.cli.common import console, fail, state
from scorer.cli.credit import credit_table
from scorer.cli.people import people_table
from scorer.cli.render import leaderboard_table, submissions_table
from scorer.cli.rewards import balances_table, history_table
from scorer.cli.submissions import _run
from scorer.exceptions import CoopError
from scorer.facade import CoopAPI
from scorer.ledger import queries, rewards
from scorer.ledger.queries import private_scores_visible
from scorer.profiles import partner
from scorer.profiles import search as people
from scorer.service.convert.credit import of_credit_table
from scorer.service.convert.people import of_results
from scorer.service.convert.rewards import of_balance, of_rewards

CHALLENGES = Path(__file__).resolve().parents[2] / "challenge_notebooks"
#: What the demo asks the people search (a recruiter's weights): ``coop people search`` does the same.
DEMO_SEARCH = ("clustering=2", "performance-optimisation=1", "numpy=1")


def demo(
    ctx: typer.Context,
    source: Annotated[Path, typer.Option(help="Folder of challenges to publish.")] = CHALLENGES,
) -> None:
    """Publish the demo challenges, score baselines and example solutions, print leaderboards."""
    current = state(ctx)
    settings = current.settings
    if not ctx.parent or ctx.parent.params.get("home") is None:
        settings.home = str(Path(".coop/demo").resolve())
        settings.db_url = f"sqlite:///{Path(settings.home) / 'coop.db'}"
    workspace = Path(settings.home)
    if not demo_core.challenge_folders(source):
        fail(CoopError(f"no challenge here: {source} holds no */challenge.yaml"))
    demo_core.reset(workspace)
    partner.folder(workspace).mkdir()  # `coop up` runs it beside this instance
    console.rule("[bold]Coopetition demo")
    console.print(f"state in {workspace} (SQLite ledger, local Dask cluster, bubblewrap sandbox)")
    try:
        api = current.api()
        with console.status("publishing the demo challenges") as status:
            built = demo_core.build(api, source, workspace, progress=status.update)
        for demo_challenge in built:
            print_environments(demo_challenge.environments, prefix=f"{demo_challenge.challenge.id}/")
        ids = [q.submission_id for b in built for q in b.queued]
        console.print(f"published {len(built)} challenge(s); scoring {len(ids)} submission(s)")
        _run(api, ids, quiet=False, runner=api.run)
        console.print(submissions_table([api.submission(i) for i in ids]))
        with api.sessions() as session:
            reruns = queries.queued_ids(session)  # queued by phases with a `reproduced` rewarder
        if reruns:
            console.print(f"re-running {len(reruns)} submission(s) on their own to see that they reproduce")
            _run(api, reruns, quiet=False, runner=api.run)
        _say_which_fail_on_purpose(api, {i: why for b in built for i, why in b.on_purpose.items()})
        now = datetime.now(UTC)
        for item in built:
            challenge = item.challenge
            for phase in challenge.phases:
                for board in challenge.phase_leaderboards(phase):
                    view = api.leaderboard(challenge.id, phase_id=phase.id, board=board.key)
                    console.print(leaderboard_table(challenge, view))
                    if private_scores_visible(phase, now=now, viewer_is_organiser=False):
                        view = api.leaderboard(challenge.id, phase_id=phase.id, board=board.key, private=True)
                        console.print(leaderboard_table(challenge, view))
        _cooperate(api, built)
    except CoopError as exc:
        fail(exc)
    console.print(
        f"\nexplore: coop --home {workspace} leaderboard {built[0].challenge.id}   "
        f"coop --home {workspace} submission {ids[0]}"
    )


def _cooperate(api: CoopAPI, built: list[demo_core.DemoChallenge]) -> None:
    """Likes, the ended phases settled, then what everyone earned and each phase's credit."""
    settled = demo_core.cooperate(api, built)
    for done in settled:
        console.print(f"settled {done.challenge_id}/{done.phase_id} on private scores", highlight=False)
        table = api.credit_table(done.challenge_id, done.phase_id, split="private")
        console.print(credit_table(done.challenge_id, of_credit_table(table)))
    now = datetime.now(UTC)
    with api.sessions() as session:
        for item in built:
            spec = item.challenge
            shown = of_rewards(spec, rewards.history(session, spec.id), organiser=False, now=now)
            console.print(history_table(f"Rewards — {spec.title}", shown))
            console.print(balances_table([of_balance(b) for b in rewards.balances(session, spec.id)]))
    wanted = people.parse_weights(DEMO_SEARCH)
    console.print(f"people search: {' '.join(f'--skill {term}' for term in DEMO_SEARCH)}", highlight=False)
    console.print(people_table(of_results(api.search_people(people.Query(wanted)))))


def _say_which_fail_on_purpose(api: CoopAPI, on_purpose: dict[int, str]) -> None:
    """The examples that fail do so on purpose: said here, and on their notebooks' pages."""
    for submission_id, why in sorted(on_purpose.items()):
        view, _scores = api.submission(submission_id)
        outcome = view.failure_class or view.status
        console.print(
            f"Failing on purpose: submission {submission_id} ({view.username}, {outcome}) is one of the "
            f"demo's examples of a common mistake: {why}.",
            highlight=False,
        )
