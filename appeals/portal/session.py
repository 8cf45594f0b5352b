"""What the appellant's browser session remembers: the appeals it may open, and its confirmations.

Appellants never log in. After a successful submission or lookup, the session holds the tracking
number with its access code so the status page and its actions work without retyping; every
request re-checks the pair against the stored hash (``selectors.appeal_get_for_appellant``).
A confirmation is remembered by the form's idempotency token, so a double-clicked submit lands on
the same confirmation page. Only the most recent few are kept.
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings

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
