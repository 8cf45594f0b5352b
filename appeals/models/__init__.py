"""The appeals app's models, one module per part (this package re-exports every name).

Enterprises, appeals (the state machine), their messages, attachments, ratings and audit trail.

The appeal's life is a django-fsm-2 state machine on ``Appeal.state``. The field is protected:
the only way to change it is a transition method, and the only callers of transition methods are
the services in ``appeals.services``, which lock the row, check permissions, save and write the
audit event. Transition bodies set only fields that follow from the transition itself.
"""

from appeals.models.appeal import (
    Appeal,
    AppealQuerySet,
)
from appeals.models.choices import (
    BAD_RATING_MAX,
    FINAL_STATES,
    OPEN_STATES,
    AppealState,
    Channel,
    EnterpriseSize,
    Industry,
    RatingLevel,
    S,
    Urgency,
)
from appeals.models.enterprise import (
    Enterprise,
    EnterpriseRevision,
)
from appeals.models.events import (
    AppealEvent,
    AppealEventQuerySet,
    AuditCheckpoint,
)
from appeals.models.records import (
    AppealMessage,
    Attachment,
    CannedReply,
    CoHandling,
    Extension,
    PiiAccessLog,
    Rating,
    TrackingSequence,
    attachment_path,
)
from appeals.models.selfservice import PhoneChallenge

__all__ = [
    "BAD_RATING_MAX",
    "FINAL_STATES",
    "OPEN_STATES",
    "Appeal",
    "AppealEvent",
    "AppealEventQuerySet",
    "AppealMessage",
    "AppealQuerySet",
    "AppealState",
    "Attachment",
    "AuditCheckpoint",
    "CannedReply",
    "Channel",
    "CoHandling",
    "Enterprise",
    "EnterpriseRevision",
    "EnterpriseSize",
    "Extension",
    "Industry",
    "PhoneChallenge",
    "PiiAccessLog",
    "Rating",
    "RatingLevel",
    "S",
    "TrackingSequence",
    "Urgency",
    "attachment_path",
]
