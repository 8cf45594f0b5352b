from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppealsConfig(AppConfig):
    name = "appeals"
    verbose_name = _("诉求")

    def ready(self) -> None:
        # Search indexing after commit (a no-op unless ELASTICSEARCH_URL is set); also registers its task.
        from appeals import search

        search.connect_signals()
        # Registers the daily audit checkpoint task (appeals.audit_checkpoint) and the deploy check.
        from appeals import audit_checkpoints, checks  # noqa: F401
