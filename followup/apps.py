from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowUpConfig(AppConfig):
    """Follow-up calls (回访) by the dispatch centre to appellants of closed appeals."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "followup"
    verbose_name = _("回访")

    def ready(self) -> None:
        from appeals import event_hooks
        from followup.selection import select_on_close

        # A closed appeal is selected for a call as soon as the close commits.
        event_hooks.subscribe(["closed"], select_on_close)
