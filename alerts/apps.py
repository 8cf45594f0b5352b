from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    """Early warning (未诉先办): clusters, repeat filers, surges and sensitive words, for supervisors."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "alerts"
    verbose_name = _("预警")
