"""A small typed client of the scorer service's JSON API, for widgets, dashboards and the CLI.

    with CoopClient("http://127.0.0.1:8765/services/coop", token=os.environ["JUPYTERHUB_API_TOKEN"]) as c:
        board = c.leaderboard("curve", "phase-1", "main")

Methods return the service's own response models (:mod:`scorer.service.models`, plain pydantic
data), so the client and the service cannot drift apart. Every error is a
:class:`CoopClientError` carrying the HTTP status and the service's message.
"""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from scorer.exceptions import CoopError
from scorer.service.models import (
    ChallengeOut,
    ChallengeSummary,
    Health,
    LeaderboardOut,
    SubmissionOut,
    SubmissionSummary,
    WhoAmI,
)

M = TypeVar("M", bound=BaseModel)


class CoopClientError(CoopError):
    """The service refused or failed a request; ``status`` is the HTTP status (0: unreachable)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message, f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class CoopClient:
    """One method per route of the service at ``base_url`` (its prefix included)."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"token {token}"} if token else {}
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/", headers=headers, timeout=timeout, transport=transport
        )

    def __enter__(self) -> CoopClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- routes --------------------------------------------------------------------------------

    def health(self) -> Health:
        return Health.model_validate(self._get("api/health"))

    def me(self) -> WhoAmI:
        return WhoAmI.model_validate(self._get("api/me"))

    def challenges(self) -> list[ChallengeSummary]:
        return TypeAdapter(list[ChallengeSummary]).validate_python(self._get("api/challenges"))

    def challenge(self, challenge_id: str) -> ChallengeOut:
        return ChallengeOut.model_validate(self._get(f"api/challenges/{challenge_id}"))

    def leaderboard(
        self, challenge_id: str, phase_id: str, board: str, *, split: str = "public"
    ) -> LeaderboardOut:
        path = f"api/challenges/{challenge_id}/phases/{phase_id}/leaderboards/{board}"
        return LeaderboardOut.model_validate(self._get(path, split=split))

    def submission(self, submission_id: int) -> SubmissionOut:
        return SubmissionOut.model_validate(self._get(f"api/submissions/{submission_id}"))

    def submissions(
        self,
        *,
        challenge: str | None = None,
        phase: str | None = None,
        person: str | None = None,
        commit: str | None = None,
        status: str | None = None,
        limit: int = 100,
    ) -> list[SubmissionSummary]:
        found = self._get(
            "api/submissions",
            challenge=challenge,
            phase=phase,
            person=person,
            commit=commit,
            status=status,
            limit=limit,
        )
        return TypeAdapter(list[SubmissionSummary]).validate_python(found)

    def notebook(self, submission_id: int) -> dict[str, Any]:
        """The executed notebook as scored (nbformat 4 JSON; ``nbformat.from_dict`` reads it)."""
        return self._get(f"api/submissions/{submission_id}/notebook")

    # --- plumbing ------------------------------------------------------------------------------

    def _get(self, path: str, **params: object) -> Any:
        query = {k: v for k, v in params.items() if v is not None}
        try:
            response = self._http.get(path, params=query)
        except httpx.HTTPError as exc:
            raise CoopClientError(0, f"the scorer service cannot be reached: {exc}") from None
        if response.is_error:
            raise CoopClientError(response.status_code, _message(response))
        return response.json()


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"]
    return str(body)[:300]
