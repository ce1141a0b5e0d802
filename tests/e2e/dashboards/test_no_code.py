"""A viewer never runs code: Voila's defaults stay on. A rendered page carries none of the
notebook's sources, and the page's own kernel, reached over its websocket as any viewer can,
drops an execute request: the kernel answers a later request and never the execute one, and
the code it carried left no trace."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from pathlib import Path

import httpx
from tornado.websocket import websocket_connect

from tests.e2e.dashboards.conftest import DemoPlatform
from tests.hub.conftest import ROOT

#: Seconds to wait for the kernel's answer to the request sent after the execute request.
ANSWER_TIMEOUT = 120.0


def message(msg_type: str, content: dict[str, object]) -> dict[str, object]:
    header = {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "session": "viewer", "version": "5.3"}
    return {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": "shell"}


def test_a_page_shows_no_source_and_its_kernel_runs_no_code_a_viewer_sends(
    demo_platform: DemoPlatform, tmp_path: Path
):
    page = httpx.get(demo_platform.page_url("index"), timeout=120, follow_redirects=True)
    assert page.status_code == 200
    notebook = json.loads((ROOT / "voila_dashboards" / "index.ipynb").read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            for line in filter(None, map(str.strip, "".join(cell["source"]).splitlines())):
                assert line not in page.text, f"source shown: {line!r}"
    kernel = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', page.text) or re.search(
        r"kernel_id[\"']?\s*[:=]\s*[\"']([0-9a-f-]{36})", page.text
    )
    assert kernel, "the page names its kernel"
    trace = tmp_path / "ran"
    ws = demo_platform.dashboards_url.replace("http://", "ws://") + f"api/kernels/{kernel.group(1)}/channels"
    replies = asyncio.run(_send(ws, f"open({str(trace)!r}, 'w').write('ran')"))
    execute, info = replies["sent"]
    assert info in replies["answered"], "the kernel answered the request sent after the execute one"
    assert execute not in replies["answered"], "the execute request was answered: code ran"
    assert not trace.exists()


async def _send(url: str, code: str) -> dict[str, list[str]]:
    connection = await websocket_connect(url)
    execute = message("execute_request", {"code": code, "silent": False, "store_history": False})
    info = message("kernel_info_request", {})
    for sent in (execute, info):
        await connection.write_message(json.dumps(sent))
    answered: list[str] = []
    wanted = info["header"]["msg_id"]  # type: ignore[index]

    async def until_info() -> None:
        while wanted not in answered:
            raw = await connection.read_message()
            assert raw is not None, "the kernel's websocket closed"
            reply = json.loads(raw)
            if reply.get("parent_header", {}).get("msg_id") and reply["msg_type"].endswith("_reply"):
                answered.append(reply["parent_header"]["msg_id"])

    await asyncio.wait_for(until_info(), ANSWER_TIMEOUT)
    connection.close()
    return {"sent": [execute["header"]["msg_id"], wanted], "answered": answered}  # type: ignore[index]
