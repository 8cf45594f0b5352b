"""The daily signed digest of every audit-chain head: built by beat or the command, pruned, exported."""

from __future__ import annotations

import hashlib
import hmac
import io
import json

import pytest
from django.core.management import CommandError, call_command

from appeals import audit, audit_checkpoints
from appeals.models import Appeal, AuditCheckpoint
from tests import factories
from tests.config.test_settings import load_settings


@pytest.fixture
def two_appeals(hrss):
    return [factories.submit(region=hrss.region).appeal for _ in range(2)]


def test_beat_task_builds_a_signed_checkpoint_and_keeps_the_newest(settings, two_appeals):
    settings.AUDIT_CHECKPOINTS_KEPT = 2
    for _ in range(3):
        assert audit_checkpoints.build_checkpoint_task() == 2
    assert AuditCheckpoint.objects.count() == 2
    checkpoint = audit_checkpoints.latest_checkpoint()
    heads = list(audit_checkpoints.iter_heads(checkpoint))
    rows = Appeal.objects.order_by("pk").values_list("pk", "tracking_number", "audit_head_seq", "audit_head_hash")
    assert heads == list(rows)
    assert checkpoint.event_count == sum(seq for _pk, _number, seq, _hash in heads)
    assert audit_checkpoints.verify_checkpoint(checkpoint) == []


def test_export_can_be_checked_by_a_witness_holding_the_key(two_appeals, tmp_path):
    out = tmp_path / "heads.json"
    call_command("audit_checkpoint", "--export", str(out), stderr=io.StringIO())
    exported = json.loads(out.read_text())
    assert [row[1] for row in exported["heads"]] == [a.tracking_number for a in two_appeals]
    # What a witness recomputes: the digest of the heads, then the signature over the summary.
    lines = "".join(f"{pk}\t{number}\t{seq}\t{head}\n" for pk, number, seq, head in exported["heads"])
    assert hashlib.sha256(lines.encode()).hexdigest() == exported["heads_sha256"]
    summary = {k: exported[k] for k in ("created_at", "appeal_count", "event_count", "heads_sha256", "key_id")}
    message = json.dumps(summary, sort_keys=True, separators=(",", ":")).encode()
    key = audit.key_for(exported["key_id"])
    assert hmac.new(key, message, hashlib.sha256).hexdigest() == exported["signature"]


def test_export_without_building_needs_a_checkpoint(db):
    with pytest.raises(CommandError, match="还没有任何链头摘要"):
        call_command("audit_checkpoint", "--no-build", "--export", "-")


def test_audit_keys_setting_is_validated(tmp_path):
    result = load_settings(tmp_path, AUDIT_KEYS="short:tooshort")
    assert result.returncode != 0 and "AUDIT_KEYS must be" in result.stderr
    result = load_settings(tmp_path, AUDIT_KEYS=f"2026-12:{'n' * 40},2026-01:{'o' * 40}")
    assert result.returncode == 0, result.stderr
