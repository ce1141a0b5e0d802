"""``Submit()``: one click saves, commits and pushes the notebook, then follows its score live.

    Submit()                                  # this notebook
    Submit(files=["helpers.py"], message="…") # and files it uses, with a message

The click starts an asyncio task on the kernel's loop: git runs as asyncio subprocesses and
the service is polled with :class:`~coop_client.client.AsyncCoopClient`, so the kernel answers other
cells meanwhile; progress is shown by setting traits (``status``, ``submission``, ``metrics``,
``rewards``, ``rank``, ``failure``, synced to the front end). The steps and what each says when it cannot go
on (``status`` in brackets):

1. save [saving]: :mod:`coop_widgets._saving`; unsaved edits stop here [unsaved];
2. commit the notebook and the named files [committing]; nothing new → [nothing], naming the
   commit that holds the notebook as it is; a commit made earlier and not pushed is pushed;
3. push ``HEAD`` to ``refs/heads/<user>/work`` [pushing]: refused by the server's policy →
   [refused] with its ``remote:`` lines; diverged from the shared branch → [conflict], with a
   button that merges it with nbdime (``git pull --no-rebase``, a merge commit: nothing of
   the participant's is discarded) [merging → merged]; the service down → [offline], trying
   again with backoff;
4. follow the submission push-to-score created: [queued → running → scored | failed], or
   [rejected] over a submission limit (the push went in): the next slot is shown in the
   browser's time zone with a countdown, beside a button that scores the commit already pushed
   once the slot is free [resubmitting → queued …] (pressing Submit with nothing changed does the
   same); with the metrics, the rewards it earned ("+10 score-threshold: accuracy ≥ 0.9"), the
   leaderboard rank before and after, or the failure class and
   reason. While the service does not answer: [offline], polling with backoff, resuming when it
   is back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ipywidgets as widgets
from traitlets import Dict, Int, List, Unicode

from coop_client.client import AsyncCoopClient, CoopClientError, Routes
from coop_client.errors import CoopError
from coop_client.git import GitResult, acall, enable_nbdime
from coop_client.models import FINISHED, ChallengeOut, SubmissionOut
from coop_widgets import _git, _html
from coop_widgets._clock import SlotClock
from coop_widgets._context import Backoff, Context, Tasks, WidgetError
from coop_widgets._saving import RUNS, SaveGuard, record_runs, unsaved_cells
from coop_widgets.rewards import earned

READY, SAVING, UNSAVED, COMMITTING, NOTHING = "ready", "saving", "unsaved", "committing", "nothing"
PUSHING, PUSHED, REFUSED, CONFLICT, OFFLINE = "pushing", "pushed", "refused", "conflict", "offline"
MERGING, MERGED, ERROR, RESUBMITTING = "merging", "merged", "error", "resubmitting"
#: Looks, ``poll_interval`` apart, at a scored submission's rewards while none has shown yet.
REWARD_LOOKS = 5
QUEUED, RUNNING, SCORED, FAILED, REJECTED = "queued", "running", "scored", "failed", "rejected"

#: How the notebook came to be known saved, by the front end's answer to the save request.
SAVED_BY = {
    "saved": "saved by JupyterLab",
    "unsupported": "this front end cannot save: the file matches the cells this kernel ran",
    "silent": "no answer to the save request: the file matches the cells this kernel ran",
}


class Submit(widgets.VBox):
    """Commit, push and follow this notebook's submission (see the module's documentation)."""

    status = Unicode(READY, help="Where the submission stands (see the module's list).").tag(sync=True)
    submission = Int(None, allow_none=True, help="The submission being followed.").tag(sync=True)
    commit = Unicode("", help="The commit submitted.").tag(sync=True)
    metrics = Dict(help="Public scores of the scored submission.").tag(sync=True)
    rewards = List(Unicode(), help="What the scored submission earned, e.g. '+10 score-threshold: …'.").tag(
        sync=True
    )
    rank = Dict(help="Leaderboard rank before and after: {'before': …, 'after': …}.").tag(sync=True)
    failure = Dict(help="Why it did not score: {'class': …, 'reason': …}.").tag(sync=True)

    def __init__(
        self,
        files: Sequence[str | Path] = (),
        *,
        message: str | None = None,
        notebook: str | Path | None = None,
        branch: str = "work",
        save_timeout: float = 5.0,
        poll_interval: float = 1.0,
        max_retry_wait: float = 30.0,
        **kwargs: Any,
    ) -> None:
        """``branch``: pushed as ``refs/heads/<user>/<branch>`` (a full ``refs/…`` name as is);
        ``save_timeout``: seconds to wait for the front end to save; ``poll_interval``: seconds
        between status checks; ``max_retry_wait``: longest wait between tries while the service
        is down."""
        self.files = [Path(f) for f in files]
        self.save_timeout, self.poll_interval, self.max_retry_wait = (
            save_timeout,
            poll_interval,
            max_retry_wait,
        )
        self.history: list[str] = []  # every status the widget went through, in order
        self.saves: list[str] = []  # how each save request was answered (SaveAnswer.kind), in order
        self.saver = SaveGuard()
        self.message = widgets.Text(description="Message", layout=widgets.Layout(width="60%"))
        self.button = widgets.Button(description="Submit", button_style="primary", icon="upload")
        self.merge_button = widgets.Button(description="Merge with nbdime", icon="code-fork")
        self.merge_button.layout.display = "none"
        self.resubmit_button = widgets.Button(
            description="Score the commit you already pushed",
            icon="redo",
            layout=widgets.Layout(width="auto"),
        )
        self.resubmit_button.layout.display = "none"
        self.refused: int | None = None  # the submission a limit refused, offered again
        self.headline = widgets.HTML()
        self.clock = SlotClock(label="Next slot")
        self.details = widgets.HTML()
        self._tasks = Tasks(self._crashed)
        super().__init__(
            [
                widgets.HBox([self.message, self.button, self.merge_button]),
                self.headline,
                widgets.HBox([self.clock, self.resubmit_button], layout=widgets.Layout(align_items="center")),
                self.details,
                self.saver,
            ],
            **kwargs,
        )
        self._changing = False  # a commit, push or merge is under way
        self.button.on_click(lambda _b: self._click(self._submission))
        self.merge_button.on_click(lambda _b: self._click(self._merge))
        self.resubmit_button.on_click(lambda _b: self._click(self._resubmission))
        try:
            self.context: Context | None = Context.from_environment(notebook=notebook)
        except WidgetError as exc:
            self.context = None
            self.button.disabled = True
            self._show(ERROR, _html.text(exc.user_message), "bad")
            return
        user = self.context.user
        self.ref = branch if branch.startswith("refs/") else f"refs/heads/{user}/{branch}"
        name = self.context.notebook.name if self.context.notebook else "notebook"
        self.message.value = message or f"Submit {name}"
        record_runs(_shell())
        self._show(READY, f"Ready to submit {_html.text(name)} as {_html.text(user)}.")

    # --- the steps -------------------------------------------------------------------------------

    async def submit(self) -> None:
        """Submit (what the button does): ``await widget.submit()`` in a cell returns once the
        submission is finished or cannot go on. Following an earlier submission stops.

        From a cell, the front end's answer to the save request arrives while the cell awaits
        when the kernel handles comm messages during a running cell (ipykernel 7 does); an older
        kernel handles it only once the cell has finished, so the save waits ``save_timeout`` and
        the kernel-side check of :mod:`coop_widgets._saving` decides."""
        await self._start(self._submission)

    async def merge(self) -> None:
        """Merge the shared branch into the clone with nbdime (what the merge button does)."""
        await self._start(self._merge)

    async def resubmit(self) -> None:
        """Score the commit a limit refused, once the slot is free (what its button does)."""
        await self._start(self._resubmission)

    async def _submission(self) -> None:
        self._clear()
        async with self._busy():
            made = await self._make()
        if made is not None:
            await self._conclude(*made)

    async def _resubmission(self) -> None:
        refused = self.refused
        self._clear()
        _notebook, repo = await self._where()
        if refused is None or repo is None or self.context is None:
            return
        async with self.context.client() as client:
            challenge = await self._challenge(client, repo)
            before = await self._rank(client, challenge, challenge.current_phase if challenge else None)
            taken = await self._resubmit(client, refused, challenge)
        if taken is not None:
            await self._conclude(taken, challenge, before)

    async def _conclude(self, submission: int, challenge: ChallengeOut | None, before: int | None) -> None:
        assert self.context is not None
        async with self.context.client() as client:
            final = await self._follow(client, submission)
            await self._finished(client, final, challenge, before)

    async def _make(self) -> tuple[int, ChallengeOut | None, int | None] | None:
        """Save, commit and push; the submission made, the challenge and the rank before."""
        notebook, repo = await self._where()
        if notebook is None or repo is None:
            return None
        self._show(SAVING, f"Saving {_html.text(notebook.name)}…", "wait")
        if not await self._saved(notebook):
            return None
        self._show(COMMITTING, f"Committing ({SAVED_BY.get(self.saves[-1], SAVED_BY['silent'])})…", "wait")
        paths = self._paths(repo, notebook)
        committed = None if paths is None else await self._committed(repo, paths)
        if paths is None or committed is None:
            return None
        assert self.context is not None
        async with self.context.client() as client:
            challenge = await self._challenge(client, repo)
            before = await self._rank(client, challenge, challenge.current_phase if challenge else None)
            if not committed:  # the notebook as it is was pushed already
                refused = await self._refused(client, challenge, paths[0])
                if refused is None:
                    await self._nothing(repo, paths[0])
                    return None
                taken = await self._resubmit(client, refused, challenge)
                return None if taken is None else (taken, challenge, before)
        pushed = await self._push(repo)
        if pushed is None:
            return None
        queued = _git.submissions_of(pushed.remote)
        if not queued:
            self._show(
                PUSHED,
                f"Pushed {self.commit[:10]}, but the scorer queued no submission:",
                "note",
                _html.pre(pushed.remote),
            )
            return None
        mine = next((q for q in queued if q.notebook == paths[0]), queued[0])
        self.submission = mine.submission
        return mine.submission, challenge, before

    async def _merge(self) -> None:
        async with self._busy():
            await self._merge_shared()

    async def _merge_shared(self) -> None:
        _notebook, repo = await self._where()
        if repo is None:
            return
        self._show(MERGING, f"Merging {_html.text(self.ref)} into your work with nbdime…", "wait")
        configured = await acall(repo, "config", "--get", "merge.jupyternotebook.driver")
        if not configured.ok:
            await asyncio.to_thread(enable_nbdime, repo)
        done = await acall(
            repo, *await self._identity(repo), "pull", "--no-rebase", "--no-edit", "origin", self.ref
        )
        if done.ok:
            self.merge_button.layout.display = "none"
            self.commit = await _git.head(repo)
            self._show(
                MERGED,
                f"Merged: your work and {_html.text(self.ref)} are now one commit ({self.commit[:10]}). "
                "Reload the notebook from disk (File › Reload Notebook from Disk), run it again, "
                "save, and press Submit.",
                "ok",
                "",
            )
        elif "CONFLICT" in done.out + done.stderr:
            self.merge_button.layout.display = "none"
            conflicts = [line for line in (done.out + done.stderr).splitlines() if "CONFLICT" in line]
            self._show(
                CONFLICT,
                "The merge needs you: both sides changed the same lines. They are marked in the files "
                "below; resolve them, commit (git commit), and press Submit. Nothing was discarded: "
                "`git merge --abort` goes back to your commit.",
                "bad",
                _html.pre(conflicts),
            )
        else:
            self._show(ERROR, "The merge did not start: nothing was changed.", "bad", _html.pre([done.text]))

    async def _where(self) -> tuple[Path | None, Path | None]:
        if self.context is None:
            return None, None
        notebook = self.context.notebook
        if notebook is None or not notebook.is_file():
            self._show(
                ERROR,
                "This kernel does not know its notebook file ($JPY_SESSION_NAME): "
                "use Submit(notebook='path/to/notebook.ipynb').",
                "bad",
            )
            return None, None
        repo = await self.context.repository()
        if repo is None:
            self._show(ERROR, f"{_html.text(notebook)} is not in a git clone of a challenge.", "bad")
        return notebook, repo

    async def _saved(self, notebook: Path) -> bool:
        answer = await self.saver.save(self.save_timeout)
        self.saves.append(answer.kind)
        if answer.kind == "saved":
            return True
        if answer.kind == "failed":
            self._show(
                UNSAVED,
                f"JupyterLab could not save {_html.text(notebook.name)} ({_html.text(answer.reason)}). "
                "Save it (File › Save Notebook), then press Submit again.",
                "bad",
            )
            return False
        stale = unsaved_cells(notebook, RUNS)
        if stale:
            self._show(
                UNSAVED,
                f"{_html.text(notebook.name)} has unsaved changes: {len(stale)} cell(s) ran with code that "
                "is not in the saved file. Save it (Ctrl+S or File › Save Notebook), then press Submit "
                "again; nothing was committed.",
                "bad",
            )
            return False
        return True

    def _paths(self, repo: Path, notebook: Path) -> list[str] | None:
        """The notebook and the named files, relative to the clone (the notebook first)."""
        paths = []
        for path in [notebook, *((notebook.parent / f).resolve() for f in self.files)]:
            if not path.exists():
                self._show(ERROR, f"{_html.text(path)} does not exist: nothing was committed.", "bad")
                return None
            if repo not in path.parents:
                self._show(ERROR, f"{_html.text(path)} is outside the clone {_html.text(repo)}.", "bad")
                return None
            paths.append(path.relative_to(repo).as_posix())
        return paths

    async def _committed(self, repo: Path, paths: list[str]) -> bool | None:
        """Commit ``paths``: ``True`` when there is a commit to push, ``False`` when ``HEAD`` holds
        them as they are and was pushed already, ``None`` when git failed (and it is shown)."""
        added = await acall(repo, "add", "--", *paths)
        if not added.ok:
            self._show(ERROR, "git add failed: nothing was committed.", "bad", _html.pre([added.text]))
            return None
        changed = await acall(repo, "diff", "--cached", "--quiet", "--", *paths)
        if changed.ok:  # the files are as committed already
            tracking = "refs/remotes/origin/" + self.ref.removeprefix("refs/heads/")
            pushed = await acall(repo, "merge-base", "--is-ancestor", "HEAD", tracking)
            if pushed.ok:
                return False
        else:
            message = self.message.value.strip() or f"Submit {Path(paths[0]).name}"
            done = await acall(repo, *await self._identity(repo), "commit", "-q", "-m", message, "--", *paths)
            if not done.ok:
                self._show(ERROR, "git commit failed.", "bad", _html.pre([done.text]))
                return None
        self.commit = await _git.head(repo)
        return True

    async def _nothing(self, repo: Path, notebook: str) -> None:
        last = (await acall(repo, "log", "-1", "--format=%h", "--", notebook)).out.strip()
        self._show(
            NOTHING,
            f"Nothing changed since your last submission {_html.text(last)}: edit and save "
            "the notebook, then press Submit again.",
        )

    async def _refused(
        self, client: AsyncCoopClient, challenge: ChallengeOut | None, notebook: str
    ) -> int | None:
        """The user's newest submission of ``notebook``, when a limit refused it."""
        if challenge is None or self.context is None:
            return None
        mine = await client.send(Routes.submissions(challenge=challenge.id, person=self.context.user))
        newest = next((s for s in mine if s.notebook == notebook), None)
        return newest.id if newest is not None and newest.status == REJECTED else None

    async def _resubmit(
        self, client: AsyncCoopClient, refused: int, challenge: ChallengeOut | None
    ) -> int | None:
        """Ask the service to score the commit of ``refused``; the new submission, or ``None``
        (still over the limit: the slot is offered again; nothing waits: said)."""
        self._show(
            RESUBMITTING,
            f"Scoring the commit you already pushed (submission {refused} was refused over a limit)…",
            "wait",
        )
        try:
            found = await client.send(Routes.resubmit(refused))
        except CoopClientError as exc:
            if exc.status == 429:
                await self._offer(
                    client, challenge, refused, f"Submission {refused} still waits for its slot."
                )
                return None
            if exc.status == 409:
                self._show(NOTHING, _html.text(exc.message[:1].upper() + exc.message[1:]) + ".")
                return None
            raise
        self.submission, self.commit = found.id, found.commit
        return found.id

    async def _offer(
        self, client: AsyncCoopClient, challenge: ChallengeOut | None, refused: int, headline: str
    ) -> None:
        """Show when the slot opens (local time, counting down) and offer to score ``refused``."""
        quota = None
        if challenge is not None and challenge.current_phase is not None:
            try:
                quota = await client.send(Routes.quota(challenge.id, challenge.current_phase))
            except CoopError:
                quota = None
        reached = quota.reached if quota is not None and quota.reached else "a submission limit is reached"
        if quota is not None and quota.blocked_by and quota.next_slot is None:
            self._show(
                REJECTED,
                f"{_html.text(headline)} {_html.text(reached)}: no slot is left in this phase.",
                "bad",
                "",
            )
            return
        self.refused = refused
        self.clock.show(quota.next_slot if quota is not None and quota.blocked_by else None)
        self.resubmit_button.layout.display = None
        self._show(
            REJECTED,
            f"{_html.text(headline)} Why: {_html.text(reached)}. Your commit is shared all the same; "
            "once the slot below is free, score it with the button (or press Submit).",
            "bad",
            "",
        )

    async def _identity(self, repo: Path) -> list[str]:
        """``-c`` options naming the hub user, for a clone without a git identity."""
        if (await acall(repo, "config", "user.email")).out.strip():
            return []
        assert self.context is not None
        user = self.context.user
        return ["-c", f"user.name={user}", "-c", f"user.email={user}@users.coopetition.local"]

    async def _push(self, repo: Path) -> GitResult | None:
        """Push ``HEAD``; ``None`` when the push was refused (and the reason is shown)."""
        backoff, since = Backoff(cap=self.max_retry_wait), None
        while True:
            self._show(PUSHING, f"Pushing {self.commit[:10]} to {_html.text(self.ref)}…", "wait")
            done = await acall(repo, "push", "origin", f"HEAD:{self.ref}")
            if done.ok:
                return done
            if _git.unreachable(done):
                since = since or datetime.now(UTC)
                self._offline(f"your commit {self.commit[:10]} is safe in your clone", since, backoff)
                await backoff.wait()
            elif _git.diverged(done):
                self.merge_button.layout.display = None
                self._show(
                    CONFLICT,
                    f"Your clone and the shared repository have diverged: {_html.text(self.ref)} there has "
                    "commits yours does not (pushed from another clone or server?), so the push was "
                    "refused and nothing was overwritten. Merge them into your work with nbdime (a merge "
                    "commit: nothing of yours is discarded), check the notebook, and Submit again.",
                    "bad",
                    _html.pre([line for line in done.stderr.splitlines() if "[rejected]" in line]),
                )
                return None
            elif _git.declined(done):
                self._show(REFUSED, "The shared repository refused the push:", "bad", _html.pre(done.remote))
                return None
            elif _git.refused_login(done):
                self._show(
                    REFUSED,
                    "The scorer did not accept this kernel's credentials ($JUPYTERHUB_API_TOKEN): "
                    "restart your server from the hub's home page.",
                    "bad",
                )
                return None
            else:
                self._show(ERROR, "git push failed.", "bad", _html.pre([done.text]))
                return None

    async def _follow(self, client: AsyncCoopClient, submission: int) -> SubmissionOut:
        """Poll until the submission is finished; wait out the service being down."""
        backoff, since = Backoff(cap=self.max_retry_wait), None
        while True:
            try:
                found = await client.send(Routes.submission(submission))
            except CoopClientError as exc:
                if not exc.unavailable:
                    raise
                since = since or datetime.now(UTC)
                self._offline(f"submission {submission} is safe", since, backoff)
                await backoff.wait()
                continue
            backoff.reset()
            since = None
            if found.status in FINISHED:
                return found
            tone_text = "waits for a worker" if found.status == QUEUED else "is running"
            self._show(found.status, f"Submission {submission} {tone_text}…", "wait")
            await asyncio.sleep(self.poll_interval)

    async def _finished(
        self,
        client: AsyncCoopClient,
        found: SubmissionOut,
        challenge: ChallengeOut | None,
        before: int | None,
    ) -> None:
        number = found.id
        if found.status == SCORED:
            after = await self._rank(client, challenge, found.phase)
            rewards = await self._earned(client, number)
            shown = [
                _html.metrics(found.public, challenge),
                _html.line(_html.text(_html.rank_change(before, after)), "ok"),
            ]
            if rewards:
                shown.append(_earned_line(rewards))
            if found.run_time is not None:
                shown.append(_html.line(f"run time {found.run_time:.1f} s"))
            with self.hold_sync():
                self.metrics = dict(found.public)
                self.rewards = rewards
                self.rank = {"before": before, "after": after}
            self._show(SCORED, f"Submission {number} scored.", "ok", "".join(shown))
            if not rewards:
                self._tasks.start(self._late_rewards(number))
        elif found.status == REJECTED:
            self.failure = {"class": "limit", "reason": found.reason or ""}
            await self._offer(
                client,
                challenge,
                number,
                f"Submission {number} was not scored: a submission limit is reached.",
            )
        else:
            self.failure = {"class": found.failure_class or "", "reason": found.reason or ""}
            self._show(
                FAILED,
                f"Submission {number} failed: {_html.text(found.failure_class or 'unknown')}.",
                "bad",
                _html.pre([found.reason or ""]),
            )

    async def _challenge(self, client: AsyncCoopClient, repo: Path) -> ChallengeOut | None:
        """The challenge, for labels and the leaderboard; ``None`` when it cannot be read now."""
        assert self.context is not None
        try:
            return await client.send(Routes.challenge(await self.context.challenge(client)))
        except CoopError:
            return None

    async def _rank(
        self, client: AsyncCoopClient, challenge: ChallengeOut | None, phase: str | None
    ) -> int | None:
        """The user's rank on the phase's first leaderboard; ``None`` when not on it (or unknown)."""
        boards = next((p.leaderboards for p in challenge.phases if p.id == phase), []) if challenge else []
        if challenge is None or not boards:
            return None
        assert self.context is not None
        try:
            board = await client.send(Routes.leaderboard(challenge.id, phase or "", boards[0]))
        except CoopError:
            return None
        return next((row.rank for row in board.rows if row.person == self.context.user), None)

    async def _late_rewards(self, submission: int) -> None:
        """Live rewards are judged just after the score is recorded: look again a few times
        (a new click cancels this)."""
        assert self.context is not None
        async with self.context.client() as client:
            for _ in range(REWARD_LOOKS):
                await asyncio.sleep(self.poll_interval)
                rewards = await self._earned(client, submission)
                if rewards:
                    self.rewards = rewards
                    self.details.value += _earned_line(rewards)
                    return

    async def _earned(self, client: AsyncCoopClient, submission: int) -> list[str]:
        """What the submission earned so far, in words; none when it cannot be read now."""
        try:
            found = await client.send(Routes.submission_rewards(submission))
        except CoopError:
            return []
        return [earned(reward) for reward in found]

    # --- showing ---------------------------------------------------------------------------------

    def _show(self, status: str, headline: str, tone: str = "note", details: str | None = None) -> None:
        """Set the status (one trait update when it changes) and the lines shown (HTML)."""
        if status != self.status or not self.history:
            self.history.append(status)
        self.status = status
        self.headline.value = _html.line(headline, tone)
        if details is not None:
            self.details.value = details

    def _offline(self, what: str, since: datetime, backoff: Backoff) -> None:
        self._show(
            OFFLINE,
            f"The scorer service is not answering (since {since:%H:%M:%S} UTC); {_html.text(what)}. "
            f"Trying again in {backoff.next:g} s.",
            "bad",
        )

    def _clear(self) -> None:
        with self.hold_sync():
            self.submission = None
            self.commit = ""
            self.metrics = {}
            self.rewards = []
            self.rank = {}
            self.failure = {}
        self.details.value = ""
        self.merge_button.layout.display = "none"
        self.resubmit_button.layout.display = "none"
        self.refused = None
        self.clock.show(None)

    def _click(self, step: Callable[[], Coroutine[Any, Any, None]]) -> None:
        if not self._changing:
            self._tasks.cancel()
            self._tasks.start(step())

    async def _start(self, step: Callable[[], Coroutine[Any, Any, None]]) -> None:
        if self._changing:
            raise WidgetError("the clone is being changed (commit, push or merge): wait for it")
        self._tasks.cancel()
        await self._tasks.start(step())

    @asynccontextmanager
    async def _busy(self) -> AsyncIterator[None]:
        """While the clone is being changed: no second click; afterwards following may be
        interrupted by a new submission."""
        self._changing = True
        self.button.disabled = self.merge_button.disabled = self.resubmit_button.disabled = True
        try:
            yield
        finally:
            self._changing = False
            self.button.disabled = self.merge_button.disabled = self.resubmit_button.disabled = False

    def _crashed(self, exc: BaseException) -> None:
        message = exc.user_message if isinstance(exc, CoopError) else f"{type(exc).__name__}: {exc}"
        self._show(ERROR, f"Something went wrong: {_html.text(message)}", "bad")

    def close(self) -> None:
        self._tasks.cancel()
        super().close()


def _earned_line(rewards: list[str]) -> str:
    return _html.line("<b>Earned</b> " + " · ".join(map(_html.text, rewards)), "ok")


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()
