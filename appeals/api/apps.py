from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "appeals.api"
    label = "appeals_api"
    verbose_name = _("接口渠道")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the API-key scheme with drf-spectacular so /api/schema/ documents it.
        from appeals.api import schema  # noqa: F401
