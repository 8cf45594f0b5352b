"""Every read of appeals, scoped by who is asking.

* ``access`` — who may see which appeal; fetching one for staff or for the appellant;
* ``deadlines`` — which deadline runs now, countdown colours and labels;
* ``queues`` — the bureau console's queues, filters and counters;
* ``boards`` — the dispatcher's board and the overdue board;
* ``timeline`` — the staff timeline of an appeal;
* ``duplicates`` — possible duplicates to merge (并单);
* ``staff_search`` — the staff search and lists (诉求查询) for every role, within its scope.

Import public names from here (``from appeals.selectors import appeal_get_for_user``).
"""

from appeals.selectors.access import (
    appeal_events,
    appeal_for_console,
    appeal_get_for_appellant,
    appeal_get_for_user,
    appeal_queryset_for_user,
    assignable_officers,
    can_reveal_phone,
    cohandling_candidates,
    cohandling_inbox,
    cohandlings_for_appeal,
    followup_allowed,
)
from appeals.selectors.boards import (
    OVERDUE_FILTERS,
    overdue_board,
    pending_extensions,
    return_reason,
    returned_queue,
    suggested_bureau,
    triage_queue,
    triage_reason,
)
from appeals.selectors.deadlines import (
    Clock,
    current_due,
    due_label,
    due_status,
    first_contact_due,
    running_deadline,
)
from appeals.selectors.duplicates import (
    DuplicateCandidate,
    MergedFollower,
    duplicate_candidates,
    find_duplicates,
    merged_followers,
)
from appeals.selectors.queues import (
    BUREAU_QUEUES,
    DEFAULT_SORT,
    SORTS,
    QueueFilters,
    Row,
    apply_filters,
    bureau_queue,
    bureau_queue_counts,
    nav_counts,
    rows,
    with_due,
)
from appeals.selectors.staff_search import (
    QUICK_LISTS,
    StaffSearch,
    StaffSearchResult,
    may_filter_by_bureau,
    reopening_rating,
    staff_search,
)
from appeals.selectors.timeline import EVENT_LABELS, TimelineEntry, appeal_timeline

__all__ = [
    "BUREAU_QUEUES",
    "DEFAULT_SORT",
    "EVENT_LABELS",
    "OVERDUE_FILTERS",
    "QUICK_LISTS",
    "SORTS",
    "Clock",
    "DuplicateCandidate",
    "MergedFollower",
    "QueueFilters",
    "Row",
    "StaffSearch",
    "StaffSearchResult",
    "TimelineEntry",
    "appeal_events",
    "appeal_for_console",
    "appeal_get_for_appellant",
    "appeal_get_for_user",
    "appeal_queryset_for_user",
    "appeal_timeline",
    "apply_filters",
    "assignable_officers",
    "bureau_queue",
    "bureau_queue_counts",
    "can_reveal_phone",
    "cohandling_candidates",
    "cohandling_inbox",
    "cohandlings_for_appeal",
    "current_due",
    "due_label",
    "due_status",
    "duplicate_candidates",
    "find_duplicates",
    "first_contact_due",
    "followup_allowed",
    "may_filter_by_bureau",
    "merged_followers",
    "nav_counts",
    "overdue_board",
    "pending_extensions",
    "reopening_rating",
    "return_reason",
    "returned_queue",
    "rows",
    "running_deadline",
    "staff_search",
    "suggested_bureau",
    "triage_queue",
    "triage_reason",
    "with_due",
]
