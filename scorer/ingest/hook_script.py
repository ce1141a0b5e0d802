"""The hooks of a served repository, as git runs them inside the service's ``git http-backend``:
``python -I -S hook_script.py pre-receive|post-receive``, run by path with the standard library
only (importing the platform cost every push 1.5-2 s). The service does the work; the hooks hand
it over on loopback (``COOP_HOOK_URL``, authenticated by ``COOP_HOOK_TOKEN``, which only the
service and the hooks it starts know) and print its answer as the client's ``remote:`` lines.

pre-receive asks the service to check the push (:func:`scorer.ingest.hooks.pre_receive`, given the
quarantined objects); when the service cannot answer the push is refused. post-receive first
writes the ref updates durably to ``<COOP_HOME>/spool/`` (temporary file, fsync, rename), then asks
the service to record and queue them (:mod:`scorer.ingest.spool`); when the service is down or
dies meanwhile the push still succeeds and the service drains the spool when it is back.
"""

import json
import os
import socket
import subprocess
import sys
import time

TOKEN_HEADER = "X-Coop-Hook-Token"
#: What git sets for a hook while the pushed objects are quarantined (pre-receive reads them).
QUARANTINE = ("GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_QUARANTINE_PATH")
PRE_RECEIVE_WAIT = 120.0
#: post-receive waits this long for the service: an organiser's push may build environments.
POST_RECEIVE_WAIT = 900.0
NOT_SERVED = "push through the Coopetition service (no pusher known)"
LATER = "push accepted; the scorer is not answering now: your commits will be queued when it is back"


def ask(hook: str, payload: dict, wait: float) -> dict:
    """POST ``payload`` (JSON) to the service's ``<COOP_HOOK_URL>/<hook>``; its JSON answer."""
    url = os.environ["COOP_HOOK_URL"]
    hostport, _, path = url.removeprefix("http://").partition("/")
    host, _, port = hostport.rpartition(":")
    body = json.dumps(payload).encode()
    head = (
        f"POST /{path}/{hook} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"{TOKEN_HEADER}: {os.environ['COOP_HOOK_TOKEN']}\r\n\r\n"
    )
    with socket.create_connection((host.strip("[]"), int(port)), timeout=wait) as connection:
        connection.sendall(head.encode() + body)
        answer = b"".join(iter(lambda: connection.recv(65536), b""))
    status, _, rest = answer.partition(b"\r\n")
    if status.split()[1:2] != [b"200"]:
        raise OSError(f"the service answered {status.decode(errors='replace')}")
    return json.loads(rest.partition(b"\r\n\r\n")[2])


def repository() -> str:
    return os.path.abspath(os.environ.get("GIT_DIR", "."))


def pre_receive() -> int:
    if not os.environ.get("COOP_PUSHER") or not os.environ.get("COOP_HOOK_URL"):
        print(f"refusing the push: {NOT_SERVED}", file=sys.stderr)
        return 1
    payload = {
        "repository": repository(),
        "pusher": os.environ["COOP_PUSHER"],
        "organiser": os.environ.get("COOP_ORGANISER") == "1",
        "updates": sys.stdin.read(),
        "status_url": os.environ.get("COOP_STATUS_URL", ""),
        "quarantine": {
            name: os.pathsep.join(os.path.abspath(p) for p in os.environ[name].split(os.pathsep))
            for name in QUARANTINE
            if os.environ.get(name)
        },
    }
    try:
        answer = ask("pre-receive", payload, PRE_RECEIVE_WAIT)
    except (OSError, ValueError) as exc:
        print(f"refusing the push: the server could not check it ({exc}); try again", file=sys.stderr)
        return 1
    for line in answer["lines"]:
        print(line, file=sys.stderr)
    return 0 if answer["accepted"] else 1


def write_entry(spool: str, entry: dict, name: str = "") -> str:
    """``entry`` as a file of ``spool`` (``name``, or a new one), whole or not at all, on disk
    before this returns."""
    os.makedirs(spool, exist_ok=True)
    name = name or f"{time.time_ns():020d}-{os.getpid()}.json"
    temporary = os.path.join(spool, f".{name}.tmp")
    with open(temporary, "w", encoding="utf-8") as out:
        json.dump(entry, out)
        out.flush()
        os.fsync(out.fileno())
    os.rename(temporary, os.path.join(spool, name))
    directory = os.open(spool, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return name


def post_receive() -> int:
    home, pusher = os.environ.get("COOP_HOME"), os.environ.get("COOP_PUSHER")
    if not home or not pusher:
        print("push accepted, but not through the Coopetition service: nothing was queued")
        return 0
    entry = {
        "repository": repository(),
        "pusher": pusher,
        "status_url": os.environ.get("COOP_STATUS_URL", ""),
        "pushed_at": time.time(),
        "updates": sys.stdin.read(),
    }
    try:  # the refs as the push left them: which commits it brought is read from them later
        entry["refs"] = subprocess.run(
            ["git", "for-each-ref", "--format=%(objectname) %(refname)"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        name = write_entry(os.path.join(home, "spool"), entry)
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"push accepted, but the scorer could not queue it ({exc})")
        print("your commits are in the repository; ask the organisers to requeue them")
        return 0
    try:
        answer = ask("post-receive", {"entry": name}, POST_RECEIVE_WAIT)
    except (OSError, ValueError):
        print(LATER, flush=True)
        return 0
    for line in answer["lines"]:
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    hooks = {"pre-receive": pre_receive, "post-receive": post_receive}
    if sys.argv[1:2] and sys.argv[1] in hooks:
        sys.exit(hooks[sys.argv[1]]())
    print(f"usage: {sys.argv[0]} pre-receive|post-receive", file=sys.stderr)
    sys.exit(2)
