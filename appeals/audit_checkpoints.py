"""Daily signed digests of every audit-chain head (``AuditCheckpoint``), against deleted appeals.

A chain protects the events of an appeal that still exists; deleting the appeal row together
with its events leaves nothing to check. The checkpoint lists every appeal's id, tracking number
and head (sequence, hash) at one moment, signed with the audit key, so ``verify_audit`` can say
"this appeal was here yesterday with 7 events and is gone" or "its chain is shorter now".

Built by a Celery beat task (``appeals.audit_checkpoint``, daily) or ``manage.py audit_checkpoint``;
exported as JSON (``--export``) for an outside witness — somewhere the database's administrators
cannot write, which is what makes the export evidence against someone who holds the key too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import zlib
from collections.abc import Iterator
from datetime import UTC
from typing import IO

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals import audit
from appeals.audit import ChainProblem, Finding
from appeals.models import Appeal, AuditCheckpoint

CHUNK = 5000


def _summary(checkpoint: AuditCheckpoint) -> bytes:
    return json.dumps(
        {
            "created_at": checkpoint.created_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "appeal_count": checkpoint.appeal_count,
            "event_count": checkpoint.event_count,
            "heads_sha256": checkpoint.heads_sha256,
            "key_id": checkpoint.key_id,
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()


def checkpoint_signature(checkpoint: AuditCheckpoint, key: bytes) -> str:
    return hmac.new(key, _summary(checkpoint), hashlib.sha256).hexdigest()


def build_checkpoint() -> AuditCheckpoint:
    """Read every appeal's head from the appeal rows, sign the digest, store it, prune old ones.

    Streams the rows (flat memory); the stored heads are compressed (about 40 bytes per appeal,
    see docs/benchmarks.md). Keeps the newest ``AUDIT_CHECKPOINTS_KEPT``.
    """
    compressor = zlib.compressobj(6)
    digest = hashlib.sha256()
    parts: list[bytes] = []
    appeals = events = 0
    rows = (
        Appeal.objects.order_by("pk")
        .values_list("pk", "tracking_number", "audit_head_seq", "audit_head_hash")
        .iterator(chunk_size=CHUNK)
    )
    for pk, number, seq, head in rows:
        line = f"{pk}\t{number}\t{seq}\t{head}\n".encode()
        digest.update(line)
        parts.append(compressor.compress(line))
        appeals += 1
        events += seq
    parts.append(compressor.flush())
    key_id, key = audit.current_key()
    checkpoint = AuditCheckpoint(
        created_at=timezone.now(),
        appeal_count=appeals,
        event_count=events,
        heads=b"".join(parts),
        heads_sha256=digest.hexdigest(),
        key_id=key_id,
    )
    checkpoint.signature = checkpoint_signature(checkpoint, key)
    with transaction.atomic():
        checkpoint.save(force_insert=True)
        keep = max(int(getattr(settings, "AUDIT_CHECKPOINTS_KEPT", 30)), 1)
        old = AuditCheckpoint.objects.order_by("-created_at", "-id").values_list("pk", flat=True)[keep:]
        AuditCheckpoint.objects.filter(pk__in=list(old)).delete()
    return checkpoint


def iter_heads(checkpoint: AuditCheckpoint) -> Iterator[tuple[int, str, int, str]]:
    """(appeal id, tracking number, head seq, head hash) in appeal-id order, decompressed as it goes."""
    decompressor = zlib.decompressobj()
    data = bytes(checkpoint.heads)
    pending = b""
    for start in range(0, len(data), 1 << 16):
        pending += decompressor.decompress(data[start : start + (1 << 16)])
        *lines, pending = pending.split(b"\n")
        for line in lines:
            pk, number, seq, head = line.decode().split("\t")
            yield int(pk), number, int(seq), head
    pending += decompressor.flush()
    for line in pending.split(b"\n"):
        if line:
            pk, number, seq, head = line.decode().split("\t")
            yield int(pk), number, int(seq), head


def verify_checkpoint(checkpoint: AuditCheckpoint) -> list[ChainProblem]:
    """The checkpoint's own integrity: its signature, and its heads against their digest."""
    key = audit.key_for(checkpoint.key_id)
    if key is None:
        text = _("链头摘要 %(id)s 的签名密钥“%(key)s”未配置") % {"id": checkpoint.pk, "key": checkpoint.key_id}
        return [ChainProblem(0, 0, text, Finding.CHECKPOINT)]
    problems = []
    if not hmac.compare_digest(checkpoint_signature(checkpoint, key), checkpoint.signature):
        text = _("链头摘要 %(id)s 的签名不符（摘要被改动）") % {"id": checkpoint.pk}
        problems.append(ChainProblem(0, 0, text, Finding.CHECKPOINT))
    digest = hashlib.sha256()
    for pk, number, seq, head in iter_heads(checkpoint):
        digest.update(f"{pk}\t{number}\t{seq}\t{head}\n".encode())
    if digest.hexdigest() != checkpoint.heads_sha256:
        text = _("链头摘要 %(id)s 的内容与其摘要值不符（摘要被改动）") % {"id": checkpoint.pk}
        problems.append(ChainProblem(0, 0, text, Finding.CHECKPOINT))
    return problems


def compare_with_appeals(checkpoint: AuditCheckpoint, *, only_appeal: int | None = None) -> list[ChainProblem]:
    """Every appeal in the checkpoint must still exist, with a head at least that far (and the
    same hash where the head has not moved). Streams both sides in id order."""
    when = timezone.localtime(checkpoint.created_at).strftime("%Y-%m-%d %H:%M")
    current = Appeal.objects.order_by("pk").values_list("pk", "audit_head_seq", "audit_head_hash")
    if only_appeal is not None:
        current = current.filter(pk=only_appeal)
    rows = iter(current.iterator(chunk_size=CHUNK))
    row = next(rows, None)
    problems = []
    for pk, number, seq, head in iter_heads(checkpoint):
        if only_appeal is not None and pk != only_appeal:
            continue
        while row is not None and row[0] < pk:
            row = next(rows, None)
        if row is None or row[0] != pk:
            text = _("诉求 %(number)s 在 %(when)s 的链头摘要中有 %(seq)d 条办理记录，现在整件诉求不见了（被删除）") % {
                "number": number,
                "when": when,
                "seq": seq,
            }
            problems.append(ChainProblem(pk, seq, text, Finding.DELETED_APPEAL))
        elif row[1] < seq:
            text = _("%(when)s 时已有 %(seq)d 条办理记录，现在只剩 %(now)d 条（记录被截短）") % {
                "when": when,
                "seq": seq,
                "now": row[1],
            }
            problems.append(ChainProblem(pk, seq, text, Finding.TRUNCATED))
        elif row[1] == seq and row[2] != head:
            text = _("第 %(seq)d 条记录与 %(when)s 链头摘要中的不同（记录被替换）") % {"seq": seq, "when": when}
            problems.append(ChainProblem(pk, seq, text, Finding.HEAD_MISMATCH))
    return problems


def latest_checkpoint() -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.order_by("-created_at", "-id").first()


def export_checkpoint(checkpoint: AuditCheckpoint, stream: IO[str]) -> None:
    """Write the checkpoint as JSON for an outside witness (heads as [id, tracking number, seq, hash])."""
    header = json.loads(_summary(checkpoint))
    header["signature"] = checkpoint.signature
    header["algorithm"] = (
        "signature = HMAC-SHA256 (audit key key_id) of the compact, key-sorted JSON of created_at, "
        "appeal_count, event_count, heads_sha256 and key_id; heads_sha256 = SHA-256 of the heads as "
        "lines 'id<TAB>tracking_number<TAB>seq<TAB>hash<LF>' in id order"
    )
    body = json.dumps(header, ensure_ascii=False, sort_keys=True)
    stream.write(body[:-1] + ', "heads": [')
    for i, (pk, number, seq, head) in enumerate(iter_heads(checkpoint)):
        stream.write(("," if i else "") + json.dumps([pk, number, seq, head]))
    stream.write("]}\n")


@shared_task(name="appeals.audit_checkpoint", time_limit=60 * 60, soft_time_limit=55 * 60)
def build_checkpoint_task() -> int:
    """Beat's daily digest of every audit-chain head; returns the number of appeals it covers.

    Safe to run again (each run adds one checkpoint; old ones are pruned).
    """
    return build_checkpoint().appeal_count
