"""``POST /webhooks/{forge}``: signed push webhooks from GitHub, GitLab and Gitea (forge mode).

A forge has no hub token: the delivery's signature over the raw body is its credential. This
router is therefore mounted without the app-wide ``viewer`` dependency, so an ``Authorization``
header a forge may be set to send is never taken for a hub token. The steps are
:func:`scorer.ingest.forge_push.receive`'s; their errors carry their statuses (401 unsigned, 400
malformed, 502 forge unreachable, 503 our settings).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from coop_client.models import ErrorOut
from scorer.ingest.forge_push import WebhookReceipt, receive
from scorer.service.deps import Api

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
    forge login that pushed, and each changed solution notebook is queued (202). Pings and other
    events are ignored (202); a delivery id seen before creates nothing (200)."""
    hooks = api.forges.get(forge)()
    body = await request.body()
    status_url = str(request.url.replace(query="")).removesuffix(f"/webhooks/{forge}")
    receipt = await run_in_threadpool(receive, api, hooks, request.headers, body, status_url=status_url)
    if receipt.status == "already processed":
        response.status_code = 200
    return receipt
