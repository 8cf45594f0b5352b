"""Admin for appeals and everything around them.

Appeals are never edited field by field here: every field is read-only (``state`` is a protected
FSM field anyway) and workflow changes are admin actions that call ``appeals.services``, so the
same permission checks, row locks, audit events and outbox rows apply as in the staff console.
Actions that need input (a reason, a bureau, the master appeal) show an intermediate form; the
result is reported per appeal: which succeeded, and for the others the service's own message.

Audit events, ratings and PII access logs are records of what happened: nobody, superusers
included, can add, change or delete them through the admin.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy

# Registering is importing: each module registers its ModelAdmins.
from appeals.admin import appeal, enterprise, records  # noqa: F401

admin.site.site_header = gettext_lazy("呼应 Huying 管理后台")
admin.site.site_title = gettext_lazy("呼应管理后台")
admin.site.index_title = gettext_lazy("数据管理")
