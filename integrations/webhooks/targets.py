"""Where webhooks may go: no loopback, private, link-local or otherwise internal addresses.

A bureau's URL is checked when it is saved and again before every attempt (a host name can be
re-pointed after it was saved). Internal targets are allowed only when the deployment says so
(``WEBHOOK_ALLOW_PRIVATE_TARGETS``, on by default with ``DEBUG``) or the endpoint was explicitly
marked as living on the internal network by an administrator.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def _internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return bool(
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def check_url(url: str, *, allow_private: bool = False) -> None:
    """Raise ``ValidationError`` (a sentence for the administrator) unless ``url`` is an acceptable target."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(_("接收地址必须是 http:// 或 https:// 开头的完整网址。"), code="scheme")
    if parts.username or parts.password:
        raise ValidationError(_("接收地址不能包含用户名或密码。"), code="userinfo")
    if allow_private or getattr(settings, "WEBHOOK_ALLOW_PRIVATE_TARGETS", False):
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolve(parts.hostname, port)
    except (OSError, UnicodeError):
        raise ValidationError(
            _("无法解析接收地址的主机名“%(host)s”，请检查网址。") % {"host": parts.hostname}, code="dns"
        ) from None
    if not addresses or any(_internal(address) for address in addresses):
        raise ValidationError(
            _(
                "接收地址指向回环或内网地址（%(host)s），生产环境不允许。如接收系统确在内网，请由管理员勾选“允许内网地址”。"
            )
            % {"host": parts.hostname},
            code="private",
        )
