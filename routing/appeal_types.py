"""Appeal types (诉求类型): the second axis beside category.

Guangdong 12345 and the national 12345 guidelines sort every appeal as an enquiry, a request for
help, a suggestion, a complaint or a report. The knowledge base scopes its answers by type (an
enquiry is what a published answer can settle); deadline policies and routing rules may use it too.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AppealType(models.TextChoices):
    ENQUIRY = "enquiry", _("咨询")
    HELP = "help", _("求助")
    SUGGESTION = "suggestion", _("建议")
    COMPLAINT = "complaint", _("投诉")
    REPORT = "report", _("举报")
