"""System checks of the appeals app."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def audit_key_configured(app_configs, **kwargs):
    """Production signs the audit trail with its own key, not the one derived from SECRET_KEY."""
    if getattr(settings, "AUDIT_KEYS", None):
        return []
    return [
        Error(
            "AUDIT_KEYS is not set: the audit trail is signed with a development key derived from SECRET_KEY.",
            hint='Set AUDIT_KEYS="<id>:<secret of 32+ characters>" (newest first; keep retired keys after it).',
            id="appeals.E001",
        )
    ]
