"""Every write to an appeal goes through a service in this package.

A service locks the appeal row, checks the version the user saw, the state and the permission,
changes the row, and commits it with its audit event and outbox row in one transaction
(``runner``). Nothing that talks to the network runs inside the transaction; deliveries happen
after commit from the outbox. Errors a person can act on are ``appeals.errors`` classes:
``InvalidInput`` (HTTP 400), ``NotAllowed`` (403), ``StateConflict`` (409).

Modules, by what they do:

* ``submission`` — filing a new appeal (routing, files, confirmation e-mail);
* ``dispatch`` — dispatch from triage, re-route, arbitration of a return, rejection;
* ``assignment`` — automatic assignment inside the bureau, the lead's reassignment;
* ``handling`` — sign for, return, reply and the lead's review;
* ``messages`` — notes, contact records, the information request and its answer;
* ``clocks`` — the paused clock and extensions;
* ``cohandling`` — 主办/协办;
* ``appellant`` — withdraw, rating, default rating, follow-up rating, a new access code;
* ``selfservice`` — one-time SMS codes proving an appeal's contact phone (enterprise self-service);
* ``merging`` — 并单 and telling merged appeals' appellants the outcome;
* ``escalation`` — the deadline sweep (warning, 催办, 督办, first contact);
* ``privacy`` — unmasking and downloading personal data, logged;
* ``attachments``, ``runner`` — the shared parts.

Import public names from here (``from appeals.services import appeal_submit``).
"""

from appeals.errors import AppealError, DuplicateSubmission, InvalidInput, NotAllowed, StateConflict
from appeals.services.appellant import (
    appeal_close_unrated,
    appeal_followup_rate,
    appeal_rate,
    appeal_reset_access_code,
    appeal_withdraw,
)
from appeals.services.assignment import appeal_reassign, auto_assign
from appeals.services.classification import appeal_correct_type, can_correct_type
from appeals.services.clocks import (
    appeal_resume_clock,
    extension_decide,
    extension_limits,
    extension_request,
    may_request_extension,
    pause_clock,
    resume_clock,
)
from appeals.services.cohandling import cohandling_decline, cohandling_invite, cohandling_submit
from appeals.services.dispatch import appeal_arbitrate_return, appeal_dispatch, appeal_reject, appeal_reroute
from appeals.services.escalation import (
    SUPERVISED_STATES,
    appeal_supervisor_supervise,
    appeal_supervisor_urge,
    is_supervised,
    run_sweep,
)
from appeals.services.handling import (
    appeal_approve_reply,
    appeal_return,
    appeal_send_back,
    appeal_sign_for,
    appeal_submit_reply,
)
from appeals.services.merging import appeal_merge, appeal_unmerge, can_unmerge, notify_merged_followers
from appeals.services.messages import appeal_add_message, appeal_provide_information, appeal_request_information
from appeals.services.privacy import (
    appeal_contact_reveal_in_admin,
    appeal_reveal_phone,
    attachment_download_record,
    enterprise_contact_reveal_in_admin,
)
from appeals.services.runner import APPELLANT, SYSTEM, OwnerProof
from appeals.services.submission import AppealSubmission, SubmittedAppeal, appeal_submit

__all__ = [
    "APPELLANT",
    "SUPERVISED_STATES",
    "SYSTEM",
    "AppealError",
    "AppealSubmission",
    "DuplicateSubmission",
    "InvalidInput",
    "NotAllowed",
    "OwnerProof",
    "StateConflict",
    "SubmittedAppeal",
    "appeal_add_message",
    "appeal_approve_reply",
    "appeal_arbitrate_return",
    "appeal_close_unrated",
    "appeal_contact_reveal_in_admin",
    "appeal_correct_type",
    "appeal_dispatch",
    "appeal_followup_rate",
    "appeal_merge",
    "appeal_provide_information",
    "appeal_rate",
    "appeal_reassign",
    "appeal_reject",
    "appeal_request_information",
    "appeal_reroute",
    "appeal_reset_access_code",
    "appeal_resume_clock",
    "appeal_return",
    "appeal_reveal_phone",
    "appeal_send_back",
    "appeal_sign_for",
    "appeal_submit",
    "appeal_submit_reply",
    "appeal_supervisor_supervise",
    "appeal_supervisor_urge",
    "appeal_unmerge",
    "appeal_withdraw",
    "attachment_download_record",
    "auto_assign",
    "can_correct_type",
    "can_unmerge",
    "cohandling_decline",
    "cohandling_invite",
    "cohandling_submit",
    "enterprise_contact_reveal_in_admin",
    "extension_decide",
    "extension_limits",
    "extension_request",
    "is_supervised",
    "may_request_extension",
    "notify_merged_followers",
    "pause_clock",
    "resume_clock",
    "run_sweep",
]
