"""Submit's save request answered the way JupyterLab 4.6 answers it: over a kernel subshell
(its ``commsOverSubshells`` setting), which ipykernel dispatches in the subshell's own thread."""

from __future__ import annotations

from typing import Any

from tests.widgets.conftest import Kernel, Served, make_participant, show_submit


class SubshellFrontEnd(Kernel):
    """A browser whose widget messages go over a subshell of their own, as JupyterLab's do."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.client.control_channel.send(self.client.session.msg("create_subshell_request", {}))
        reply = self.client.get_control_msg(timeout=60)
        self.subshell: str = reply["content"]["subshell_id"]

    def send_comm(self, comm_id: str, data: dict[str, Any]) -> None:
        message = self.client.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
        message["header"]["subshell_id"] = self.subshell
        self.client.shell_channel.send(message)


def test_a_save_answered_over_a_subshell_lets_the_submission_go_on_at_once(
    served: Served, kernel_for
) -> None:
    hugo = make_participant(served, "hugo")
    kernel = SubshellFrontEnd(hugo)
    try:
        # an hour to answer: only the answer itself can let the submission go on
        ids = show_submit(kernel, "poll_interval=0.2, save_timeout=3600")
        for _ in range(3):
            since = len(kernel.statuses(ids["submit"]))
            kernel.click(ids["button"])
            assert kernel.wait_for_status(ids["submit"], {"committing", "error"}, since=since) == "committing"
            kernel.wait_for_status(ids["submit"], {"queued", "nothing", "error"}, since=since)
        assert kernel.value("submit.saves") == ["saved", "saved", "saved"]
    finally:
        kernel.shutdown()
