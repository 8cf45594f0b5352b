"""What the appellant's browser session remembers: the appeals it may open, and its confirmations.

Appellants never log in. After a successful submission or lookup, the session holds the tracking
number with its access code so the status page and its actions work without retyping; every
request re-checks the pair against the stored hash (``selectors.appeal_get_for_appellant``).
A confirmation is remembered by the form's idempotency token, so a double-clicked submit lands on
the same confirmation page. Only the most recent few are kept.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.utils import timezone

ACCESS_KEY = "portal_access"
CONFIRMATIONS_KEY = "portal_confirmations"
KEEP = 10


def _trim(mapping: dict) -> dict:
    items = list(mapping.items())[-KEEP:]
    return dict(items)


def remember_access(request, tracking_number: str, access_code: str) -> None:
    access = dict(request.session.get(ACCESS_KEY, {}))
    access.pop(tracking_number, None)
    access[tracking_number] = access_code
    request.session[ACCESS_KEY] = _trim(access)


def access_code_for(request, tracking_number: str) -> str | None:
    return request.session.get(ACCESS_KEY, {}).get(tracking_number)


def forget_access(request, tracking_number: str) -> None:
    access = dict(request.session.get(ACCESS_KEY, {}))
    if access.pop(tracking_number, None) is not None:
        request.session[ACCESS_KEY] = access


def remember_confirmation(request, token: str, tracking_number: str, access_code: str) -> None:
    confirmations = dict(request.session.get(CONFIRMATIONS_KEY, {}))
    confirmations[token] = {"tracking_number": tracking_number, "access_code": access_code}
    request.session[CONFIRMATIONS_KEY] = _trim(confirmations)
    remember_access(request, tracking_number, access_code)


def confirmation_for(request, token: str) -> dict | None:
    """The confirmation saved under ``token``, from this request's session or, once, from the store.

    With a double click the browser shows the second request's answer while the first one (which
    saved the appeal) may have written the session after this request loaded it; one re-read of
    the stored session covers a finished first request. Never waits: a first request still running
    is handled by the page asking the browser to check again (``views.confirmation``).
    """
    found = request.session.get(CONFIRMATIONS_KEY, {}).get(token)
    session_key = request.session.session_key
    if found is None and session_key:
        store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
        found = store.get(CONFIRMATIONS_KEY, {}).get(token)
        if found is not None:
            remember_confirmation(request, token, found["tracking_number"], found["access_code"])
    return found


# --- Enterprise self-service (appeals.portal.selfservice) ------------------------------------------
# The pending challenge (which code this browser is waiting for, for which number), the grant a
# verified phone earns (time-limited), and the appeals opened from signed links (with the access
# version each link was made for, re-checked on every request so a new access code revokes them).

CHALLENGE_KEY = "portal_challenge"
GRANT_KEY = "portal_phone_grant"
LINKS_KEY = "portal_links"


def remember_challenge(request, challenge_id: int, phone: str, credit_code: str) -> None:
    request.session[CHALLENGE_KEY] = {"id": challenge_id, "phone": phone, "credit_code": credit_code}


def pending_challenge(request) -> dict | None:
    return request.session.get(CHALLENGE_KEY)


def grant_phone(request, phone: str, credit_code: str, seconds: int) -> None:
    """Open this session to the appeals of ``phone`` for ``seconds`` (a new session key: no fixation)."""
    request.session.cycle_key()
    request.session.pop(CHALLENGE_KEY, None)
    request.session[GRANT_KEY] = {
        "phone": phone,
        "credit_code": credit_code,
        "expires": (timezone.now() + timedelta(seconds=seconds)).timestamp(),
    }


def phone_grant(request) -> dict | None:
    """The live grant (phone, credit code, expires as a datetime), or None (none, or expired: dropped)."""
    grant = request.session.get(GRANT_KEY)
    if not grant:
        return None
    expires = datetime.fromtimestamp(grant["expires"], tz=UTC)
    if timezone.now() >= expires:
        request.session.pop(GRANT_KEY, None)
        return None
    return {**grant, "expires": expires}


def end_self_service(request) -> None:
    """Sign out of self-service: the grant, the pending challenge and link-opened appeals are dropped."""
    for key in (GRANT_KEY, CHALLENGE_KEY, LINKS_KEY):
        request.session.pop(key, None)


def remember_link(request, tracking_number: str, access_version: str) -> None:
    opened = dict(request.session.get(LINKS_KEY, {}))
    opened.pop(tracking_number, None)
    opened[tracking_number] = access_version
    request.session[LINKS_KEY] = _trim(opened)


def link_version_for(request, tracking_number: str) -> str | None:
    return request.session.get(LINKS_KEY, {}).get(tracking_number)


def forget_link(request, tracking_number: str) -> None:
    opened = dict(request.session.get(LINKS_KEY, {}))
    if opened.pop(tracking_number, None) is not None:
        request.session[LINKS_KEY] = opened
