"""A symbolic link pushed over smart HTTP: pre-receive refuses it with a ``remote:`` reason."""

from __future__ import annotations

from pathlib import Path

from tests.service.test_git_http import Served, clone, commit, refused, served

__all__ = ["served"]  # the module's served repository, shared with the HTTP tests


def test_a_link_to_a_home_folder_is_refused_at_the_push(served: Served, tmp_path: Path) -> None:
    work = clone(served, tmp_path / "alice", "alice", "alice-token")
    (work / "solutions" / "alice").mkdir(parents=True)
    (work / "solutions" / "alice" / "mydata").symlink_to("/home/jovyan/data")
    commit(work, served, "alice", {"solutions/alice/notes.md": "my data is linked"})
    stderr = refused(
        served,
        work,
        "origin",
        "HEAD:refs/heads/alice/linked",
        expect="solutions/alice/mydata is a symbolic link, which the scorer cannot check out",
    )
    assert "git rm --cached solutions/alice/mydata" in stderr
