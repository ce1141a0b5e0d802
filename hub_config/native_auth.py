"""NativeAuthenticator as the production hub uses it (``COOP_HUB_AUTH=native``, ``production.py``).

jupyterhub-nativeauthenticator 1.3.0, its latest release, times each login with
``self.statsd`` in its ``LoginHandler.post``. JupyterHub 6 removed statsd from its handlers
(it times logins itself: the ``login_duration_seconds`` metric), so on JupyterHub 6 every
``POST /hub/login`` failed with ``AttributeError: 'LoginHandler' object has no attribute
'statsd'``. :class:`CoopNativeAuthenticator` serves the same login page through a handler that
gives that call a timer that does nothing; the rest of the package runs as released. It also
tells a locked-out person so (after ``allowed_failed_logins`` failures, for
``seconds_before_next_try`` seconds) rather than "Invalid username or password." again.

Delete this module once a NativeAuthenticator release no longer uses ``statsd``.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from nativeauthenticator import NativeAuthenticator
from nativeauthenticator.handlers import LoginHandler


class NoTimer:
    """What ``LoginHandler.post`` asks of ``self.statsd``: ``timer(name).start()`` and ``stop()``."""

    def timer(self, _name: str) -> NoTimer:
        return self

    def start(self) -> NoTimer:
        return self

    def stop(self, send: bool = True) -> None:
        return None


class CoopLoginHandler(LoginHandler):
    """NativeAuthenticator's ``/hub/login`` on JupyterHub 5 and 6."""

    statsd = NoTimer()

    def _render(self, login_error: str | None = None, username: str | None = None) -> Awaitable[Any]:
        authenticator = self.authenticator
        if login_error and username and authenticator.is_blocked(authenticator.normalize_username(username)):
            minutes = max(1, round(authenticator.seconds_before_next_try / 60))
            login_error = f"Too many failed attempts for {username}: try again in {minutes} minutes."
        return super()._render(login_error=login_error, username=username)


class CoopNativeAuthenticator(NativeAuthenticator):
    """NativeAuthenticator with :class:`CoopLoginHandler` at ``/login``; configured as
    ``NativeAuthenticator`` (its settings apply to this subclass)."""

    def get_handlers(self, app: Any) -> list[tuple[str, type]]:
        return [
            (path, CoopLoginHandler if path == r"/login" else handler)
            for path, handler in super().get_handlers(app)
        ]
