"""Parsing what git says about commits: trailers, identities, notebook fingerprints."""

from __future__ import annotations

import json

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from scorer.ingest.attribution import LOG_FORMAT, Person, co_authors, notebook_fingerprint, parse_log
from tests.conftest import git


def test_trailers_of_the_last_paragraph_only():
    message = (
        "Better cuts\n\nCo-authored-by: Not Me <x@y>\nin the body\n\n"
        "Signed-off-by: A <a@x>\nCo-authored-by: Bob Builder <Bob@Example.org>\n"
        "co-authored-by:  Carol <carol@example.org> \nCo-authored-by: Bob again <bob@example.org>\n"
    )
    assert co_authors(message) == (
        Person("Bob Builder", "bob@example.org"),
        Person("Carol", "carol@example.org"),
    )


def test_a_subject_alone_has_no_trailers_and_junk_is_ignored():
    assert co_authors("Co-authored-by: A <a@x>") == ()
    assert co_authors("fix\n\nCo-authored-by: no email\nCo-authored-by: <two@x> <emails@y>") == ()


def test_parse_log_of_a_real_repository(tmp_path):
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "a.txt").write_text("a")
    git(tmp_path, "add", "a.txt")
    message = "First\n\nwith a body\n\nCo-authored-by: Dana <dana@example.org>"
    git(tmp_path, "commit", "-q", "-m", message, user="alice")
    (tmp_path / "b.txt").write_text("b")
    git(tmp_path, "add", "b.txt")
    git(tmp_path, "commit", "-q", "-m", "Second", user="mallory")
    output = git(tmp_path, "log", f"--format={LOG_FORMAT}")
    second, first = parse_log(output + "\n")
    assert first.parents == () and second.parents == (first.sha,)
    assert first.author == Person("alice", "alice@example.org")
    assert first.co_authors == (Person("Dana", "dana@example.org"),)
    assert second.committer.name == "mallory" and second.co_authors == ()
    assert first.message.startswith("First\n\nwith a body")


def test_fingerprint_ignores_outputs_metadata_and_formatting():
    notebook = new_notebook(cells=[new_markdown_cell("# Idea"), new_code_cell("x = 1\nprint(x)")])
    plain = nbformat.writes(notebook).encode()
    notebook.cells[1].outputs = [new_output("stream", name="stdout", text="1\n")]
    notebook.cells[1].execution_count = 3
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "P", "language": "python"}
    run = json.dumps(json.loads(nbformat.writes(notebook)), indent=4).encode()
    assert notebook_fingerprint(plain) == notebook_fingerprint(run)
    notebook.cells[1].source = "x = 2\nprint(x)"
    assert notebook_fingerprint(nbformat.writes(notebook).encode()) != notebook_fingerprint(plain)


def test_fingerprint_of_something_else_is_none():
    assert notebook_fingerprint(b"not json") is None
    assert notebook_fingerprint(b'{"no": "cells"}') is None
