"""manage.py verify_audit: each kind of tampering by someone with database write access is reported
in words with exit 1 — edited event, reordered events, middle delete, newest delete, an edit of the
appeal row, a deleted appeal, and a re-hash without the audit key — and untouched data passes.

The attacker writes raw SQL, past the model's guards. On PostgreSQL the audit table's trigger would
refuse that, so ``attacker_sql`` first switches triggers off the way a superuser can
(``session_replication_role = replica``).
"""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from appeals import audit, audit_checkpoints, services
from appeals.models import Appeal, AppealEvent
from tests import factories

EVENTS = AppealEvent._meta.db_table
APPEALS = Appeal._meta.db_table


def _verify(*args) -> tuple[str, str, CommandError | None]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


def attacker_sql(sql: str, params: list | tuple = ()) -> None:
    """Run SQL as an attacker with database rights: on PostgreSQL, with the audit triggers disabled."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A superuser's way round triggers (user and foreign-key ones alike) for this session.
            cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = origin")


@pytest.fixture
def appeals(hrss, officer):
    first = factories.submit(region=hrss.region).appeal
    services.appeal_sign_for(appeal_id=first.pk, user=officer)
    services.appeal_submit_reply(appeal_id=first.pk, user=officer, reply="已联系企业并协调解决。")
    second = factories.submit(region=hrss.region).appeal
    return first, second


def _lines(out: str, appeal: Appeal) -> list[str]:
    return [line for line in out.splitlines() if line.startswith(appeal.tracking_number)]


def _kinds(out: str, appeal: Appeal) -> set[str]:
    return {line.split("\t")[2].split("]")[0].lstrip("[") for line in _lines(out, appeal)}


def test_untouched_data_passes_with_and_without_a_checkpoint(appeals):
    out, _err, error = _verify()
    assert error is None, out
    assert "共检查 2 件诉求、6 条办理记录，发现 0 个问题" in out
    assert "尚无链头摘要" in out
    audit_checkpoints.build_checkpoint()
    out, _err, error = _verify()
    assert error is None, out
    assert "尚无链头摘要" not in out


def test_edited_event(appeals):
    first, second = appeals
    attacker_sql(f"UPDATE {EVENTS} SET reason = %s WHERE appeal_id = %s AND seq = 3", ["改过的原因", first.pk])
    out, err, error = _verify()
    assert error is not None and error.returncode == 1
    assert _kinds(out, first) == {"edited"}
    assert "#3\t[edited] 内容与签名不符（记录被改动）" in out
    assert not _lines(out, second)
    assert "发现 1 个问题" in err and "edited 1" in err


def test_reordered_events(appeals):
    first, _second = appeals
    # Swap events 2 and 3 (through a spare number: (appeal, seq) is unique).
    attacker_sql(f"UPDATE {EVENTS} SET seq = 99 WHERE appeal_id = %s AND seq = 2", [first.pk])
    attacker_sql(f"UPDATE {EVENTS} SET seq = 2 WHERE appeal_id = %s AND seq = 3", [first.pk])
    attacker_sql(f"UPDATE {EVENTS} SET seq = 3 WHERE appeal_id = %s AND seq = 99", [first.pk])
    out, _err, error = _verify()
    assert error is not None
    assert "reordered" in _kinds(out, first)
    assert "本条本应接在第 3 条之后（记录被调换顺序）" in out


def test_deleted_event_in_the_middle(appeals):
    first, _second = appeals
    attacker_sql(f"DELETE FROM {EVENTS} WHERE appeal_id = %s AND seq = 2", [first.pk])
    out, _err, error = _verify()
    assert error is not None
    assert _kinds(out, first) == {"missing"}
    assert "第 2 至 2 条记录缺失（中间的记录被删除）" in out


def test_deleted_newest_event(appeals):
    first, _second = appeals
    attacker_sql(f"DELETE FROM {EVENTS} WHERE appeal_id = %s AND seq = 4", [first.pk])
    out, _err, error = _verify()
    assert error is not None
    assert "truncated" in _kinds(out, first)
    assert "诉求记录的最新一条是第 4 条，现存记录只到第 3 条（最新的记录被删除）" in out


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("reply", "改写后的答复"),
        ("title", "改写的标题"),
        ("contact_phone", "+8613900000000"),
        ("enterprise_name", "别的公司"),
    ],
)
def test_appeal_row_edited_behind_the_services_back(appeals, column, value):
    first, second = appeals
    attacker_sql(f"UPDATE {APPEALS} SET {column} = %s WHERE id = %s", [value, first.pk])
    out, _err, error = _verify()
    assert error is not None
    assert _kinds(out, first) == {"row_edited"}
    assert not _lines(out, second)


def test_appeal_moved_to_another_bureau_in_the_database(appeals, finance):
    first, _second = appeals
    attacker_sql(f"UPDATE {APPEALS} SET bureau_id = %s WHERE id = %s", [finance.pk, first.pk])
    out, _err, error = _verify()
    assert error is not None
    assert _kinds(out, first) == {"row_edited"}


def test_deleted_appeal_is_found_by_the_checkpoint(appeals):
    first, second = appeals
    audit_checkpoints.build_checkpoint()
    # Every row that points at the appeal goes (its events included), then the appeal itself.
    for relation in Appeal._meta.related_objects:
        field = relation.field
        if field.model is not Appeal and field.concrete and not field.many_to_many:
            attacker_sql(f"DELETE FROM {field.model._meta.db_table} WHERE {field.column} = %s", [second.pk])
    attacker_sql(f"DELETE FROM {APPEALS} WHERE id = %s", [second.pk])
    out, _err, error = _verify()
    assert error is not None
    assert f"[deleted_appeal] 诉求 {second.tracking_number} 在" in out
    assert "有 2 条办理记录，现在整件诉求不见了（被删除）" in out
    assert not _lines(out, first)


def test_truncation_with_a_lowered_head_is_found_by_the_checkpoint(appeals):
    """Deleting the newest event and lowering the row's head to match is caught by yesterday's digest."""
    first, _second = appeals
    audit_checkpoints.build_checkpoint()
    third = AppealEvent.objects.get(appeal=first, seq=3)
    attacker_sql(f"DELETE FROM {EVENTS} WHERE appeal_id = %s AND seq = 4", [first.pk])
    attacker_sql(
        f"UPDATE {APPEALS} SET audit_head_seq = 3, audit_head_hash = %s, state = 'handling', reply = '' WHERE id = %s",
        [third.hash, first.pk],
    )
    out, _err, error = _verify()
    assert error is not None
    assert "已有 4 条办理记录，现在只剩 3 条（记录被截短）" in out


def _rehash_without_key(first: Appeal, *, from_seq: int, reason: str) -> None:
    """A forger who knows the algorithm but not the key: edit, then recompute every later hash."""
    chain = list(AppealEvent.objects.filter(appeal=first).order_by("seq"))
    prev = chain[from_seq - 2].hash
    for event in chain[from_seq - 1 :]:
        if event.seq == from_seq:
            event.reason = reason
        event.prev_hash = prev
        event.hash = audit.unkeyed_digest(prev_hash=prev, key_id=event.key_id, **audit.event_content(event))
        attacker_sql(
            f"UPDATE {EVENTS} SET reason = %s, prev_hash = %s, hash = %s WHERE id = %s",
            [event.reason, event.prev_hash, event.hash, event.pk],
        )
        prev = event.hash
    attacker_sql(f"UPDATE {APPEALS} SET audit_head_hash = %s WHERE id = %s", [prev, first.pk])


def test_rehash_without_the_key(appeals):
    first, _second = appeals
    _rehash_without_key(first, from_seq=2, reason="伪造的分拨理由")
    out, _err, error = _verify()
    assert error is not None
    # Every link is consistent, yet none of the re-computed hashes carries the key.
    assert _kinds(out, first) == {"rehashed"}
    assert len(_lines(out, first)) == 3


def test_signing_with_a_made_up_key_is_reported(appeals):
    first, _second = appeals
    event = AppealEvent.objects.get(appeal=first, seq=4)
    event.key_id = "attacker"
    forged = audit.sign(event, key_id="attacker", key=b"a key the attacker chose")
    attacker_sql(f"UPDATE {EVENTS} SET key_id = 'attacker', hash = %s WHERE id = %s", [forged, event.pk])
    attacker_sql(f"UPDATE {APPEALS} SET audit_head_hash = %s WHERE id = %s", [forged, first.pk])
    out, _err, error = _verify()
    assert error is not None
    assert _kinds(out, first) == {"unknown_key"}


def test_state_changed_behind_the_services_back_is_reported(appeals):
    first, _second = appeals
    attacker_sql(f"UPDATE {APPEALS} SET state = %s WHERE id = %s", ["closed", first.pk])
    out, _err, error = _verify()
    assert error is not None
    assert _kinds(out, first) == {"row_edited", "state_mismatch"}


def test_appeal_without_any_events_is_reported(appeals):
    _first, second = appeals
    attacker_sql(f"DELETE FROM {EVENTS} WHERE appeal_id = %s", [second.pk])
    out, _err, error = _verify()
    assert error is not None
    assert f"{second.tracking_number}\t#0\t[no_events]" in out


def test_tampered_checkpoint_is_reported(appeals):
    checkpoint = audit_checkpoints.build_checkpoint()
    # Deleting is allowed (pruning); a forger replaces the digest with one signed by another key.
    checkpoint.pk = None
    checkpoint.signature = "0" * 64
    checkpoint.save(force_insert=True)
    out, _err, error = _verify()
    assert error is not None
    assert "[checkpoint]" in out and "签名不符" in out


def test_single_appeal_option(appeals):
    first, second = appeals
    attacker_sql(f"UPDATE {EVENTS} SET reason = 'x' WHERE appeal_id = %s AND seq = 1", [second.pk])
    out, _err, error = _verify("--appeal", first.tracking_number)
    assert error is None, out
    assert "共检查 1 件诉求、4 条办理记录" in out
    out, _err, error = _verify("--appeal", second.tracking_number)
    assert error is not None
    assert second.tracking_number in out


def test_unknown_tracking_number_says_so(db):
    _out, _err, error = _verify("--appeal", "20990101000001")
    assert error is not None
    assert "找不到受理编号" in str(error)


def test_small_chunks_stream_across_appeal_boundaries(appeals):
    out, _err, error = _verify("--chunk-size", "1")
    assert error is None, out
    assert "6 条办理记录" in out


def test_migration_re_signs_intact_legacy_chains_and_leaves_broken_ones_reported(appeals):
    """Chains written before keys existed (unkeyed SHA-256, no row digest, no head) after migration 0004."""
    import importlib

    from django.db.migrations.loader import MigrationLoader

    first, second = appeals
    for appeal in (first, second):
        prev = ""
        for event in AppealEvent.objects.filter(appeal=appeal).order_by("seq"):
            event.prev_hash, event.row_digest, event.key_id = prev, "", ""
            event.hash = audit.unkeyed_digest(prev_hash=prev, **audit.event_content(event))
            attacker_sql(
                f"UPDATE {EVENTS} SET prev_hash = %s, hash = %s, row_digest = '', key_id = '' WHERE id = %s",
                [event.prev_hash, event.hash, event.pk],
            )
            prev = event.hash
        attacker_sql(f"UPDATE {APPEALS} SET audit_head_seq = 0, audit_head_hash = '' WHERE id = %s", [appeal.pk])
    # Someone had already edited the second appeal's legacy trail.
    attacker_sql(f"UPDATE {EVENTS} SET reason = 'x' WHERE appeal_id = %s AND seq = 1", [second.pk])

    migration = importlib.import_module("appeals.migrations.0004_sign_existing_audit_events")
    # The models as migration 0004 sees them (plain managers, no append-only guard).
    apps = MigrationLoader(connection).project_state(("appeals", "0004_sign_existing_audit_events")).apps
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # the triggers arrive only in 0005
            cursor.execute("SET session_replication_role = replica")
        try:
            migration.forwards(apps, None)
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = origin")

    out, _err, error = _verify()
    assert error is not None
    assert not _lines(out, first)  # re-signed: verifies like any new chain
    assert _kinds(out, second) == {"legacy_broken"}  # not blessed by the upgrade
    assert {e.key_id for e in AppealEvent.objects.filter(appeal=first)} == {audit.DEV_KEY_ID}
