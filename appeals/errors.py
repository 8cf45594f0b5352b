"""Errors a person can act on, raised by the services and shown by the views.

``status`` is the HTTP status a view answers with; ``code`` is a stable machine-readable reason
(the API returns it, the console keys its behaviour on it: ``stale`` and ``wrong_state`` offer a
reload). Messages are translated sentences that say what to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from appeals.models import Appeal


class AppealError(Exception):
    """A failure the user can act on; ``message`` is shown to them."""

    status = 400

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class InvalidInput(AppealError):
    """HTTP 400: the input is wrong (missing text, unknown bureau, a limit exceeded)."""

    status = 400


class NotAllowed(AppealError):
    """HTTP 403: this user (or this access code) may not do this to this appeal."""

    status = 403


class StateConflict(AppealError):
    """HTTP 409: the appeal is not in a state that allows this (often: someone acted first)."""

    status = 409


class DuplicateSubmission(AppealError):
    """The same idempotency key was submitted twice; ``appeal`` is the one already saved."""

    status = 409

    def __init__(self, appeal: Appeal) -> None:
        super().__init__(_("这份诉求已经提交过了。"), code="duplicate")
        self.appeal = appeal


__all__ = ["AppealError", "DuplicateSubmission", "InvalidInput", "NotAllowed", "StateConflict"]
