"""Rate limits of the public portal and the API (django-ratelimit's counters in the cache).

Rates come from ``settings.PORTAL_RATE_LIMITS``; ``RATELIMIT_ENABLE=false`` turns them all off.
A limited request learns how long to wait, so the message can say when to try again.
A limit that cannot be checked (the cache is down) lets the request through, logged and counted:
filing an appeal never depends on the cache (see also config/cache.py).
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage

from config.proxies import client_ip

logger = logging.getLogger(__name__)


def client_address(request) -> str:
    """The client's IP address, for rate limits and login lockouts (django-axes): the real client
    behind trusted proxies only (``config.proxies``), never a header anyone could send."""
    return client_ip(request) or ""


def wait_seconds(request, *, name: str, value: str | None = None) -> int:
    """Count one request against limit ``name``; 0 if allowed, else the seconds until the window ends.

    ``value`` is what the limit is keyed on (e.g. a credit code); None keys on the client address.
    """
    rate = settings.PORTAL_RATE_LIMITS.get(name)
    if not rate:
        return 0
    key = (lambda _group, req: client_address(req)) if value is None else (lambda _group, _request: value)
    try:
        usage = get_usage(request, group=f"huying.{name}", key=key, rate=rate, increment=True)
    except Exception as exc:  # noqa: BLE001 - any cache failure: the limit fails open, the request goes on
        _failed_open(name, exc)
        return 0
    if usage is None or not usage["should_limit"]:
        return 0
    return max(int(usage["time_left"]), 1)


def locked_seconds(request, *, name: str, value: str | None = None) -> int:
    """Without counting anything: 0 if fewer than the allowed number of failures were counted under
    ``name`` in this window, else the seconds until the lockout ends (``count_failure`` counts them)."""
    rate = settings.PORTAL_RATE_LIMITS.get(name)
    if not rate:
        return 0
    key = (lambda _group, req: client_address(req)) if value is None else (lambda _group, _request: value)
    try:
        usage = get_usage(request, group=f"huying.{name}", key=key, rate=rate, increment=False)
    except Exception as exc:  # noqa: BLE001 - as wait_seconds: fail open (each code still allows few tries)
        _failed_open(name, exc)
        return 0
    if usage is None or usage["count"] < usage["limit"]:
        return 0
    return max(int(usage["time_left"]), 1)


def count_failure(request, *, name: str, value: str | None = None) -> None:
    """Count one failure under ``name`` (a wrong one-time code) towards its lockout."""
    wait_seconds(request, name=name, value=value)


def lockout_message(wait: int) -> str:
    """Verification is locked after too many wrong codes: say for how long, and what else to do."""
    minutes = max(1, math.ceil(wait / 60))
    at = timezone.localtime(timezone.now() + timedelta(seconds=wait))
    return _(
        "验证码错误次数太多，为保护企业信息，验证已暂时锁定。请在%(minutes)d分钟后（%(time)s以后）重新获取验证码再试；"
        "也可以用受理编号和查询码查询，或拨打12345热线。"
    ) % {"minutes": minutes, "time": at.strftime("%H:%M")}


# Limits that could not be checked because the cache failed (the request was allowed), per process.
failed_open: Counter[str] = Counter()


def _failed_open(name: str, exc: Exception) -> None:
    failed_open[name] += 1
    logger.warning(
        "Rate limit %s not checked, request allowed: the cache failed (%s: %s). %d such request(s) so far.",
        name,
        type(exc).__name__,
        exc,
        sum(failed_open.values()),
    )


def message(wait: int) -> str:
    """Tell the person when to try again, in minutes and as a clock time."""
    minutes = max(1, math.ceil(wait / 60))
    at = timezone.localtime(timezone.now() + timedelta(seconds=wait))
    return _(
        "操作太频繁了。为防止滥用，同一来源在一段时间内的次数有上限。请在%(minutes)d分钟后（%(time)s以后）再试；"
        "如有急事，可拨打12345热线。"
    ) % {"minutes": minutes, "time": at.strftime("%H:%M")}
