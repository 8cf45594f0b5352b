from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProblemsConfig(AppConfig):
    """Problem tickets (问题工单): appeals re-opened, bounced between bureaus or overdue past 督办."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "problems"
    verbose_name = _("问题工单")

    def ready(self) -> None:
        from appeals import event_hooks
        from problems.detection import TRIGGER_KINDS, check_on_event

        # Re-check an appeal as soon as one of these events commits; the sweep catches the rest.
        event_hooks.subscribe(TRIGGER_KINDS, check_on_event)
