"""``POST /webhooks/{forge}``: signed push webhooks from GitHub, GitLab and Gitea (forge mode).

A forge has no hub token: the delivery's signature over the raw body is its credential. This
router is therefore mounted without the app-wide ``viewer`` dependency, so an ``Authorization``
header a forge may be set to send is never taken for a hub token. The steps are
:func:`scorer.ingest.forge_push.receive`'s; this handler only maps their errors to statuses.
"""

from __future__ import annotations

import logging
from typing import Annotated

from coop_client.models import ErrorOut
from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from scorer.exceptions import CoopError
from scorer.ingest.forge_push import ForgeUnreachable, WebhookReceipt, WebhookSettingsError, receive
from scorer.ingest.forges.base import MalformedDelivery, SignatureMismatch
from scorer.service.deps import Api

log = logging.getLogger("coop.service.webhooks")
router = APIRouter(tags=["webhooks"])

#: The status of each error of a delivery (other errors go to the app's handlers).
STATUS: dict[type[CoopError], int] = {
    SignatureMismatch: 401,
    MalformedDelivery: 400,
    ForgeUnreachable: 502,
    WebhookSettingsError: 503,
}


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
) -> WebhookReceipt | JSONResponse:
    """A forge's push webhook: the pushed commits are fetched, recorded with the hub user of the
    forge login that pushed, and each changed solution notebook is queued (202). Pings and other
    events are ignored (202); a delivery id seen before creates nothing (200)."""
    try:
        hooks = api.forges.get(forge)()
    except CoopError as exc:
        return JSONResponse({"error": exc.user_message}, status_code=404)
    body = await request.body()
    status_url = str(request.url.replace(query="")).removesuffix(f"/webhooks/{forge}")
    try:
        receipt = await run_in_threadpool(receive, api, hooks, request.headers, body, status_url=status_url)
    except tuple(STATUS) as exc:
        status = next(code for cls, code in STATUS.items() if isinstance(exc, cls))
        (log.warning if status >= 500 else log.info)("%s webhook → %s: %s", forge, status, exc.log_message)
        return JSONResponse({"error": exc.user_message}, status_code=status)
    if receipt.status == "already processed":
        response.status_code = 200
    return receipt
