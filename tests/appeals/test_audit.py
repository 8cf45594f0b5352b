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
    from tests.appeals.test_verify_audit import attacker_sql

    attacker_sql(sql, params)


def test_editing_a_row_in_the_database_is_detected(handled_appeal):
    target = events(handled_appeal)[2]
    _raw(f"UPDATE {AppealEvent._meta.db_table} SET reason = %s WHERE id = %s", ["篡改", target.pk])
    problems = audit.verify_chain(events(handled_appeal))
    assert [(p.seq, p.kind) for p in problems] == [(3, "edited")]


def test_rehashing_an_edited_row_without_the_key_is_detected(handled_appeal):
    rows = events(handled_appeal)
    row = rows[1]
    row.reason = "伪造"
    # A forger who knows the algorithm but not the key recomputes this row's hash as plain SHA-256…
    forged = audit.unkeyed_digest(prev_hash=row.prev_hash, key_id=row.key_id, **audit.event_content(row))
    _raw(f"UPDATE {AppealEvent._meta.db_table} SET reason = %s, hash = %s WHERE id = %s", ["伪造", forged, row.pk])
    # …which neither carries the key nor matches the next event's link.
    problems = audit.verify_chain(events(handled_appeal))
    assert [(p.seq, p.kind) for p in problems] == [(2, "rehashed"), (3, "broken_link")]


def test_deleting_a_row_is_detected(handled_appeal):
    rows = events(handled_appeal)
    _raw(f"DELETE FROM {AppealEvent._meta.db_table} WHERE id = %s", [rows[1].pk])
    problems = audit.verify_chain(events(handled_appeal))
    assert [(p.seq, p.kind) for p in problems] == [(3, "missing")]


def test_events_are_signed_with_the_current_key_and_commit_to_the_row(handled_appeal):
    rows = events(handled_appeal)
    assert {e.key_id for e in rows} == {audit.DEV_KEY_ID}
    handled_appeal.refresh_from_db()
    assert rows[-1].row_digest == audit.row_digest(handled_appeal)
    assert (handled_appeal.audit_head_seq, handled_appeal.audit_head_hash) == (rows[-1].seq, rows[-1].hash)
    # Every event commits to the row as it was after its step (submission and routing were one insert).
    submitted, dispatched, signed, note, replied = (e.row_digest for e in rows)
    assert submitted == dispatched != signed
    assert note == signed != replied  # the note left the row alone; the reply changed it


def test_keys_rotate_with_fallbacks(settings, city, hrss, officer):
    settings.AUDIT_KEYS = [("2025", "o" * 40)]
    appeal = factories.submit(region=city).appeal
    # A new key goes first; the retired one stays after it so older events still verify.
    settings.AUDIT_KEYS = [("2026", "n" * 40), ("2025", "o" * 40)]
    services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
    rows = events(appeal)
    assert rows[0].key_id == "2025" and rows[-1].key_id == "2026"
    assert audit.verify_chain(rows) == []
    settings.AUDIT_KEYS = [("2026", "n" * 40)]
    assert {(p.seq, p.kind) for p in audit.verify_chain(rows)} == {(1, "unknown_key"), (2, "unknown_key")}


def test_head_on_the_row_follows_every_event(handled_appeal, officer):
    services.appeal_add_message(appeal_id=handled_appeal.pk, kind="internal_note", body="再记一笔", actor=officer)
    handled_appeal.refresh_from_db()
    last = events(handled_appeal)[-1]
    assert (handled_appeal.audit_head_seq, handled_appeal.audit_head_hash) == (last.seq, last.hash)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="database triggers exist on PostgreSQL only")
def test_postgresql_refuses_update_and_delete_of_audit_rows(handled_appeal):
    from django.db import DatabaseError, transaction

    target = events(handled_appeal)[0]
    for sql in (
        f"UPDATE {AppealEvent._meta.db_table} SET reason = 'x' WHERE id = %s",
        f"DELETE FROM {AppealEvent._meta.db_table} WHERE id = %s",
    ):
        # An ordinary connection: triggers on.
        with (
            pytest.raises(DatabaseError, match="Cannot update or delete"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [target.pk])
    assert events(handled_appeal)[0].reason == target.reason


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


def test_deployment_check_requires_a_dedicated_audit_key(settings):
    from appeals.checks import audit_key_configured

    settings.AUDIT_KEYS = []
    [error] = audit_key_configured(None)
    assert error.id == "appeals.E001"
    settings.AUDIT_KEYS = [("2026-12", "k" * 40)]
    assert audit_key_configured(None) == []
