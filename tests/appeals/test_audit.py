"""The audit trail: append-only through the ORM, and tampering in the database is detected."""

from __future__ import annotations

import pytest
from django.db import connection

from appeals import audit, services
from appeals.models import AppealEvent
from tests import factories


@pytest.fixture
def handled_appeal(city, hrss, officer):
    appeal = factories.submit(region=city).appeal
    services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
    services.appeal_add_message(appeal_id=appeal.pk, kind="internal_note", body="已电话联系企业", actor=officer)
    services.appeal_submit_reply(appeal_id=appeal.pk, user=officer, reply="已协调解决")
    return appeal


def events(appeal):
    return list(AppealEvent.objects.filter(appeal=appeal).order_by("seq"))


def test_every_step_is_recorded_with_actor_and_states(handled_appeal, officer):
    rows = events(handled_appeal)
    assert [(e.kind, e.from_state, e.to_state) for e in rows] == [
        ("submitted", "", "submitted"),
        ("dispatched", "submitted", "dispatched"),
        ("signed_for", "dispatched", "handling"),
        ("message.internal_note", "", ""),
        ("replied", "handling", "replied"),
    ]
    assert rows[0].actor_kind == "appellant"
    assert rows[1].actor_kind == "system"
    assert rows[2].actor_id == officer.pk
    assert audit.verify_chain(rows) == []


def test_orm_cannot_edit_or_delete_events(handled_appeal):
    event = events(handled_appeal)[0]
    event.reason = "改写历史"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AppealEvent.objects.filter(appeal=handled_appeal).update(reason="x")
    with pytest.raises(PermissionError):
        AppealEvent.objects.filter(appeal=handled_appeal).delete()


def _raw(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_editing_a_row_in_the_database_is_detected(handled_appeal):
    target = events(handled_appeal)[2]
    _raw(f"UPDATE {AppealEvent._meta.db_table} SET reason = %s WHERE id = %s", ["篡改", target.pk])
    problems = audit.verify_chain(events(handled_appeal))
    assert [(p.seq, p.problem) for p in problems] == [(3, "content does not match its hash (altered)")]


def test_rehashing_an_edited_row_still_breaks_the_next_link(handled_appeal):
    rows = events(handled_appeal)
    row = rows[1]
    # A forger who knows the algorithm rewrites the reason and recomputes this row's hash…
    forged_hash = audit.event_digest(
        prev_hash=row.prev_hash,
        appeal_id=row.appeal_id,
        seq=row.seq,
        kind=row.kind,
        actor_id=row.actor_id,
        actor_kind=row.actor_kind,
        actor_label=row.actor_label,
        from_state=row.from_state,
        to_state=row.to_state,
        reason="伪造",
        data=row.data,
        created_at=row.created_at,
    )
    _raw(
        f"UPDATE {AppealEvent._meta.db_table} SET reason = %s, hash = %s WHERE id = %s",
        ["伪造", forged_hash, row.pk],
    )
    # …but the next event still points at the original hash.
    problems = audit.verify_chain(events(handled_appeal))
    assert [(p.seq, p.problem) for p in problems] == [(3, "link to the previous event is broken")]


def test_deleting_a_row_is_detected(handled_appeal):
    rows = events(handled_appeal)
    _raw(f"DELETE FROM {AppealEvent._meta.db_table} WHERE id = %s", [rows[1].pk])
    problems = audit.verify_chain(events(handled_appeal))
    assert any("missing" in p.problem for p in problems)
    assert any("link" in p.problem for p in problems)


def test_chains_are_per_appeal(city, hrss):
    first = factories.submit(region=city).appeal
    second = factories.submit(region=city).appeal
    assert events(first)[0].prev_hash == events(second)[0].prev_hash == ""
    assert events(first)[0].hash != events(second)[0].hash


def test_failed_transition_leaves_no_event(handled_appeal, officer):
    before = len(events(handled_appeal))
    with pytest.raises(services.StateConflict):
        services.appeal_sign_for(appeal_id=handled_appeal.pk, user=officer)
    assert len(events(handled_appeal)) == before
