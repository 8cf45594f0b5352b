"""manage.py verify_audit: valid chains pass; tampering, deletion and state edits are reported with exit 1."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from appeals import services
from appeals.models import Appeal, AppealEvent
from tests import factories


def _verify(*args) -> tuple[str, str, CommandError | None]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


@pytest.fixture
def appeals(hrss, officer):
    first = factories.submit(region=hrss.region).appeal
    services.appeal_sign_for(appeal_id=first.pk, user=officer)
    services.appeal_submit_reply(appeal_id=first.pk, user=officer, reply="已联系企业并协调解决。")
    second = factories.submit(region=hrss.region).appeal
    return first, second


def _raw(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_valid_chains_pass(appeals):
    out, _err, error = _verify()
    assert error is None
    assert "共检查 2 件诉求、6 条办理记录，发现 0 个问题" in out


def test_raw_sql_update_of_an_event_is_detected(appeals):
    first, second = appeals
    table = AppealEvent._meta.db_table
    _raw(f"UPDATE {table} SET reason = %s WHERE appeal_id = %s AND seq = 3", ["改过的原因", first.pk])
    out, err, error = _verify()
    assert error is not None and error.returncode == 1
    assert f"{first.tracking_number}\t#3\tcontent does not match its hash (altered)" in out
    assert second.tracking_number not in out
    assert "发现 1 个问题" in err


def test_deleted_event_breaks_the_chain(appeals):
    first, _second = appeals
    _raw(f"DELETE FROM {AppealEvent._meta.db_table} WHERE appeal_id = %s AND seq = 2", [first.pk])
    out, _err, error = _verify()
    assert error is not None
    assert f"{first.tracking_number}\t#3\texpected event #2" in out
    assert f"{first.tracking_number}\t#3\tlink to the previous event is broken" in out


def test_appeal_without_any_events_is_reported(appeals):
    _first, second = appeals
    _raw(f"DELETE FROM {AppealEvent._meta.db_table} WHERE appeal_id = %s", [second.pk])
    out, _err, error = _verify()
    assert error is not None
    assert f"{second.tracking_number}\t#0\tappeal has no audit events" in out


def test_state_changed_behind_the_services_back_is_reported(appeals):
    first, _second = appeals
    _raw(f"UPDATE {Appeal._meta.db_table} SET state = %s WHERE id = %s", ["closed", first.pk])
    out, _err, error = _verify()
    assert error is not None
    assert "appeal state is 'closed' but the audit trail ends in 'replied'" in out


def test_single_appeal_option(appeals):
    first, second = appeals
    _raw(f"UPDATE {AppealEvent._meta.db_table} SET reason = 'x' WHERE appeal_id = %s AND seq = 1", [second.pk])
    out, _err, error = _verify("--appeal", first.tracking_number)
    assert error is None
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
    assert error is None
    assert "6 条办理记录" in out
