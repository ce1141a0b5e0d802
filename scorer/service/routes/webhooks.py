"""``POST /webhooks/{forge}``: signed push webhooks from GitHub, GitLab and Gitea (forge mode).

A forge has no hub token: the delivery's signature over the raw body is its credential. This
router is therefore mounted without the app-wide ``viewer`` dependency, so an ``Authorization``
header a forge may be set to send is never taken for a hub token. The steps are
:func:`scorer.ingest.forge_push.receive`'s; their errors carry their statuses (401 unsigned, 400
malformed, 502 forge unreachable, 503 our settings).

A forge gives up on a delivery that is not answered in about 10 s (GitHub), and fetching a push
can take longer. So once the delivery is checked (signature, payload, challenge, not seen
before) it is written to the spool (:func:`scorer.ingest.spool.spool_delivery`) and taken from
there; when that takes more than :data:`ACK_WAIT` seconds the answer is 202 "accepted" at once,
and what the delivery led to is recorded with it (a redelivery answers it, 200). A delivery whose
processing fails on our side (the forge unreachable) stays spooled and is tried again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from coop_client.models import ErrorOut
from scorer.ingest import spool
from scorer.ingest.forge_push import WebhookReceipt, admit
from scorer.service.deps import Api

log = logging.getLogger("coop.service.webhooks")
#: Seconds a delivery's answer waits for what it leads to before saying "accepted".
ACK_WAIT = 1.0

router = APIRouter(tags=["webhooks"])


@router.post(
    "/webhooks/{forge}",
    response_model=WebhookReceipt,
    status_code=202,
    responses={
        200: {"model": WebhookReceipt, "description": "A delivery already processed: what it led to."},
        400: {"model": ErrorOut, "description": "A header is missing or the payload is malformed."},
        401: {"model": ErrorOut, "description": "Unsigned, or signed with no challenge's secret."},
        404: {"model": ErrorOut, "description": "No such forge."},
        502: {"model": ErrorOut, "description": "The pushed commit cannot be fetched from the forge now."},
        503: {"model": ErrorOut, "description": "The scorer's webhook settings cannot be read."},
    },
    openapi_extra={  # read raw (the signature covers the bytes): describe the body by hand
        "requestBody": {
            "required": True,
            "description": "The forge's push payload (GitHub `push`, GitLab `Push Hook`, Gitea `push`).",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def webhook(
    request: Request,
    response: Response,
    api: Api,
    forge: Annotated[str, Path(description="`github`, `gitlab` or `gitea` (or a forge plugin's name).")],
) -> WebhookReceipt:
    """A forge's push webhook: the pushed commits are fetched, recorded with the hub user of the
    forge login that pushed, and each changed solution notebook is queued (202, with what it led
    to, or within about a second "accepted" while that goes on). Pings and other events are
    ignored (202); a delivery id seen before creates nothing (200)."""
    hooks = api.forges.get(forge)()
    body = await request.body()
    status_url = str(request.url.replace(query="")).removesuffix(f"/webhooks/{forge}")
    admitted = await run_in_threadpool(admit, api, hooks, request.headers, body)
    if isinstance(admitted, WebhookReceipt):
        if admitted.status == "already processed":
            response.status_code = 200
        return admitted
    challenge, push = admitted
    home, now = api.settings.home_path, datetime.now(UTC)
    path = await run_in_threadpool(
        spool.spool_delivery, home, hooks.name, request.headers, body, status_url, now
    )
    taking = asyncio.ensure_future(run_in_threadpool(spool.process_delivery, api, path))
    done, _ = await asyncio.wait({taking}, timeout=ACK_WAIT)
    if not done:
        taking.add_done_callback(_logged)
    receipt = taking.result() if done else None  # its errors are the delivery's answer
    if receipt is None:
        return WebhookReceipt(
            status="accepted",
            forge=hooks.name,
            delivery=push.delivery_id,
            challenge=challenge.id,
            reason="taken: what the push leads to is recorded with the delivery",
        )
    if receipt.status == "already processed":
        response.status_code = 200
    return receipt


def _logged(taking: asyncio.Future) -> None:
    """A delivery taken after its answer: its failure is logged (it stays spooled, or is set
    aside when it is wrong)."""
    if not taking.cancelled() and taking.exception() is not None:
        log.error("a spooled delivery failed: %s", taking.exception())
