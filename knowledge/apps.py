from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    """The policy Q&A knowledge base (政策问答) and the answers suggested while a business files."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "knowledge"
    verbose_name = _("政策问答")
