"""Submit in a real kernel: commit, push, live status up to the score, never blocking the kernel;
and each way a submission cannot go through, with what the widget says."""

from __future__ import annotations

import pytest

from scorer.scoring.worker import score_submission
from tests.widgets.conftest import Served, make_participant, show_submit, silent


def score(served: Served, submission: int) -> str:
    """What the service's dispatcher does for a queued submission, done here (in a sandbox)."""
    return score_submission(submission, served.fixture.settings.to_dict())


@pytest.mark.needs("bwrap")
def test_a_click_commits_pushes_and_shows_the_score_while_the_kernel_stays_free(
    served: Served, kernel_for
) -> None:
    alice = make_participant(served, "alice")
    kernel = kernel_for(alice)
    ids = show_submit(kernel)
    kernel.click(ids["button"])
    assert kernel.wait_for_status(ids["submit"], {"queued", "error", "refused", "unsaved"}) == "queued"
    # the submission waits; the kernel answers another cell meanwhile
    assert kernel.execute("print(sum(range(10)))").strip() == "45"
    assert kernel.value("submit.status") == "queued"
    responsive = len(kernel.messages)  # everything up to the other cell's end
    submission = kernel.value("submit.submission")
    pushed = alice.git("ls-remote", "origin", "refs/heads/alice/work").split()[0]
    assert pushed == kernel.value("submit.commit") == alice.git("rev-parse", "HEAD")
    assert alice.git("log", "-1", "--format=%s") == "Submit phase-1.ipynb"
    assert score(served, submission) == "scored"
    kernel.wait_for_status(ids["submit"], {"scored"})
    # what the front end was told, from the protocol alone: one update per status, in order
    updates = kernel.updates(ids["submit"])
    statuses = [state["status"] for state in updates if "status" in state]
    seen_running = ["running"] if "running" in statuses else []  # when a poll fell in the run
    assert statuses == ["saving", "committing", "pushing", "queued", *seen_running, "scored"]
    assert statuses == kernel.value("submit.history")[1:]
    state = {key: value for update in updates for key, value in update.items()}
    assert state["submission"] == submission and state["metrics"]["rmse"] > 0
    assert state["rank"] == {"before": None, "after": 1}
    scored_at = next(
        i
        for i, m in enumerate(kernel.messages)
        if m["msg_type"] == "comm_msg" and m["content"]["data"].get("state", {}).get("status") == "scored"
    )
    assert scored_at > responsive  # the score arrived after the other cell had finished
    shown = kernel.value("submit.details.value")
    assert "RMSE" in shown and "new on the leaderboard at rank 1" in shown


def test_nothing_changed_since_the_last_submission_is_said_and_nothing_is_pushed(
    served: Served, kernel_for
) -> None:
    bob = make_participant(served, "bob")
    kernel = kernel_for(bob)
    ids = show_submit(kernel)
    kernel.click(ids["button"])
    kernel.wait_for_status(ids["submit"], {"queued"})
    first = kernel.value("submit.commit")
    kernel.execute("await submit.submit()")
    assert kernel.value("submit.status") == "nothing"
    assert f"Nothing changed since your last submission {first[:7]}" in kernel.value("submit.headline.value")
    assert bob.git("rev-parse", "HEAD") == first
    with served.api.sessions() as session:
        from scorer.ledger import queries

        mine = queries.submissions(session, challenge_id=served.challenge_id, username="bob")
    assert len(mine) == 1


def test_over_a_limit_the_push_goes_in_and_the_next_free_slot_is_shown(served: Served, kernel_for) -> None:
    carol = make_participant(served, "carol")
    kernel = kernel_for(carol)
    ids = show_submit(kernel)
    kernel.click(ids["button"])
    kernel.wait_for_status(ids["submit"], {"queued"})
    carol.edit(
        3, "coefficients = np.polyfit(train.x, train.y, 5)\ntest['y'] = np.polyval(coefficients, test.x)"
    )
    kernel.execute("await submit.submit()")
    assert kernel.value("submit.status") == "rejected"
    failure = kernel.value("submit.failure")
    assert failure["class"] == "limit" and "at most one submission every 1 h; next slot" in failure["reason"]
    assert "a submission limit is reached" in kernel.value("submit.headline.value")
    second = carol.git("rev-parse", "HEAD")
    assert carol.git("ls-remote", "origin", "refs/heads/carol/work").split()[0] == second  # shared anyway


def test_a_push_to_someone_elses_namespace_shows_the_policys_refusal(served: Served, kernel_for) -> None:
    dave = make_participant(served, "dave")
    kernel = kernel_for(dave)
    show_submit(kernel, "branch='refs/heads/erin/work', poll_interval=0.2")
    kernel.execute("await submit.submit()")
    assert kernel.value("submit.status") == "refused"
    shown = kernel.value("submit.details.value")
    assert "refusing refs/heads/erin/work: participants push to refs/heads/dave/&lt;branch&gt;" in shown
    assert dave.git("ls-remote", "origin", "refs/heads/erin/work") == ""


@pytest.mark.needs("bwrap")
def test_the_service_stopped_while_the_widget_waits_then_back(served: Served, kernel_for) -> None:
    erin = make_participant(served, "erin")
    kernel = kernel_for(erin)
    ids = show_submit(kernel)
    served.service.stop()  # down before the push: the commit waits in the clone
    try:
        kernel.click(ids["button"])
        kernel.wait_for_status(ids["submit"], {"offline"})
        assert "your commit" in kernel.value("submit.headline.value")
    finally:
        served.service.start()
    kernel.wait_for(
        lambda: "queued" in kernel.statuses(ids["submit"]), 60, "the push once the service is back"
    )
    served.service.stop()  # down while following the submission
    try:
        kernel.wait_for(lambda: kernel.statuses(ids["submit"])[-1] == "offline", 60, "offline while queued")
        assert "is not answering" in kernel.value("submit.headline.value")
    finally:
        served.service.start()
    kernel.wait_for(lambda: kernel.statuses(ids["submit"])[-1] == "queued", 60, "following again")
    submission = kernel.value("submit.submission")
    assert score(served, submission) == "scored"
    kernel.wait_for_status(ids["submit"], {"scored"})
    assert [s for s in kernel.statuses(ids["submit"]) if s != "running"] == [
        "saving",
        "committing",
        "pushing",
        "offline",
        "pushing",
        "queued",
        "offline",
        "queued",
        "scored",
    ]


@pytest.mark.needs("bwrap")
def test_a_failed_run_shows_its_failure_class_and_reason(served: Served, kernel_for) -> None:
    hugo = make_participant(served, "hugo")
    hugo.edit(3, "raise ValueError('bad degree')")
    kernel = kernel_for(hugo)
    ids = show_submit(kernel)
    kernel.click(ids["button"])
    kernel.wait_for_status(ids["submit"], {"queued"})
    assert score(served, kernel.value("submit.submission")) == "exception"  # its failure class
    kernel.wait_for_status(ids["submit"], {"failed"})
    failure = kernel.value("submit.failure")
    assert failure["class"] == "exception" and "bad degree" in failure["reason"]
    assert "failed: exception" in kernel.value("submit.headline.value")


def test_unsaved_changes_stop_the_submission_until_the_notebook_is_saved(served: Served, kernel_for) -> None:
    gina = make_participant(served, "gina")
    kernel = kernel_for(gina, front_end=silent)  # a front end that cannot save for us
    ids = show_submit(kernel, "poll_interval=0.2, save_timeout=0.5")
    # the modelling cell edited in the browser and run, but not saved
    edited = 'inputs_dir = "data"\npredictions_path = "predictions.csv"\ndegree = 4'
    kernel.execute(edited, cell_id="18cc3155")
    kernel.execute("await submit.submit()")
    assert kernel.value("submit.status") == "unsaved"
    assert "unsaved changes: 1 cell(s)" in kernel.value("submit.headline.value")
    assert gina.git("status", "--porcelain") == "?? solutions/gina/"  # nothing committed
    gina.edit(1, edited)  # saved now
    kernel.click(ids["button"])
    kernel.wait_for_status(ids["submit"], {"queued"})
    assert "degree = 4" in gina.git("show", "HEAD:solutions/gina/phase-1.ipynb")


def test_a_clone_that_diverged_is_explained_and_merged_without_losing_work(
    served: Served, kernel_for
) -> None:
    frank = make_participant(served, "frank")
    kernel = kernel_for(frank)
    ids = show_submit(kernel)
    kernel.click(ids["button"])
    kernel.wait_for_status(ids["submit"], {"queued"})
    # the same person goes on from another clone (a laptop) and pushes there first
    laptop = make_participant(served, "frank", where="laptop", easy_start=False)
    laptop.git("fetch", "-q", "origin", "refs/heads/frank/work")
    laptop.git("checkout", "-q", "-B", "work", "FETCH_HEAD")
    laptop.edit(1, 'inputs_dir = "data"\npredictions_path = "predictions.csv"\ndegree = 4  # from the laptop')
    laptop.git("commit", "-q", "-am", "from the laptop")
    laptop.git("push", "-q", "origin", "HEAD:refs/heads/frank/work")
    theirs = laptop.git("rev-parse", "HEAD")

    frank.edit(4, 'test[["id", "y"]].to_csv(predictions_path, index=False)  # from the hub')
    kernel.execute("await submit.submit()")
    assert kernel.value("submit.status") == "conflict"
    assert "have diverged" in kernel.value("submit.headline.value")
    assert kernel.value("submit.merge_button.layout.display") is None  # the merge is offered
    mine = frank.git("rev-parse", "HEAD")
    assert (
        frank.git("ls-remote", "origin", "refs/heads/frank/work").split()[0] == theirs
    )  # nothing overwritten

    shown = len(kernel.statuses(ids["submit"]))
    kernel.click(ids["merge"])
    kernel.wait_for(
        lambda: len(kernel.statuses(ids["submit"])) >= shown + 2, 60, "the merge"
    )  # merging, then
    assert kernel.value("submit.status") == "merged", kernel.value("submit.details.value")
    merged = frank.git("rev-parse", "HEAD")
    for kept in (mine, theirs):
        frank.git("merge-base", "--is-ancestor", kept, merged)  # both sides' work is in the merge
    notebook = frank.git("show", "HEAD:solutions/frank/phase-1.ipynb")
    assert "from the laptop" in notebook and "from the hub" in notebook
    shown = len(kernel.statuses(ids["submit"]))
    kernel.click(ids["button"])  # the merge goes in (over the hourly limit: not scored)
    assert kernel.wait_for_status(ids["submit"], {"queued", "rejected"}, since=shown) == "rejected"
    assert frank.git("ls-remote", "origin", "refs/heads/frank/work").split()[0] == merged
