"""``manage.py verify_audit``: check every appeal's signed audit trail against the appeal rows.

Streams the appeals and their events in id order with chunked iterators (memory stays flat on
millions of rows) and, for each appeal, reports in words:

- events edited, re-hashed without the audit key, signed with an unknown key, reordered, or
  missing from the middle (``appeals.audit.verify_chain``);
- the newest events deleted (the head stored on the appeal row points past the trail), the head
  replaced, the appeal row edited behind the services' back (its audited fields no longer match
  the digest the newest event committed to), the state disagreeing with the trail, or no events
  at all (``appeals.audit.verify_appeal``);
- against the newest daily checkpoint (``appeals.audit_checkpoints``): appeals deleted since, or
  chains shorter than they were; and the checkpoint's own signature.

Each line is ``tracking number, #event, [kind] description``. Exit code 1 when anything is wrong,
so it can run from cron or CI.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Iterator
from operator import attrgetter

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from appeals import audit_checkpoints
from appeals.audit import ChainProblem, verify_appeal, verify_chain
from appeals.models import Appeal, AppealEvent

CHUNK_SIZE = 5000


class Command(BaseCommand):
    help = _("校验诉求办理记录（审计链）是否被篡改：逐件检查签名链、诉求本身和每日链头摘要，发现问题时退出码为 1。")

    def add_arguments(self, parser):
        parser.add_argument("--appeal", metavar="TRACKING_NUMBER", help=_("只检查这一件诉求（受理编号）。"))
        parser.add_argument(
            "--chunk-size", type=int, default=CHUNK_SIZE, help=_("每次从数据库读取的记录条数（默认 5000）。")
        )
        parser.add_argument("--quiet", action="store_true", help=_("只在发现问题时输出。"))

    def handle(self, *args, **options):
        started = time.monotonic()
        chunk = options["chunk_size"]
        only_appeal = None
        if options["appeal"]:
            number = "".join(ch for ch in options["appeal"] if ch.isdigit())
            only_appeal = Appeal.objects.filter(tracking_number=number).values_list("pk", flat=True).first()
            if only_appeal is None:
                raise CommandError(
                    _("找不到受理编号为 %(number)s 的诉求，请核对编号。") % {"number": options["appeal"]}
                )
        numbers: dict[int, str] = {}
        kinds: Counter[str] = Counter()
        appeals = events = 0

        def report(problem: ChainProblem, number: str = "") -> None:
            kinds[problem.kind] += 1
            number = number or numbers.get(problem.appeal_id, "") or f"#{problem.appeal_id}"
            self.stdout.write(f"{number}\t#{problem.seq}\t[{problem.kind}] {problem.problem}")

        for appeal, chain in self._appeals_with_chains(only_appeal, chunk):
            appeals += 1
            events += len(chain)
            numbers[appeal.pk] = appeal.tracking_number
            for problem in [*verify_chain(chain), *verify_appeal(appeal, chain)]:
                report(problem)
            numbers.pop(appeal.pk, None)

        checkpoint = audit_checkpoints.latest_checkpoint()
        if checkpoint is not None:
            for problem in audit_checkpoints.verify_checkpoint(checkpoint):
                report(problem, _("链头摘要"))
            for problem in audit_checkpoints.compare_with_appeals(checkpoint, only_appeal=only_appeal):
                report(problem)

        problems = sum(kinds.values())
        line = _(
            "共检查 %(appeals)d 件诉求、%(events)d 条办理记录，发现 %(problems)d 个问题（用时 %(seconds).1f 秒）。"
        ) % {
            "appeals": appeals,
            "events": events,
            "problems": problems,
            "seconds": time.monotonic() - started,
        }
        if checkpoint is None:
            line += " " + _("尚无链头摘要，无法发现整件被删除的诉求（运行 manage.py audit_checkpoint）。")
        if problems:
            self.stderr.write(line)
            self.stderr.write(_("按类型：") + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())))
            raise CommandError(
                _("审计链校验未通过：以上记录可能被修改或删除。请从备份核对这些诉求的办理记录，并检查数据库访问日志。")
            )
        if not options["quiet"]:
            self.stdout.write(self.style.SUCCESS(line))

    def _appeals_with_chains(
        self, only_appeal: int | None, chunk_size: int
    ) -> Iterator[tuple[Appeal, list[AppealEvent]]]:
        """Each appeal (in id order) with its events in seq order, merging two streams."""
        appeals = Appeal.objects.order_by("pk")
        events = AppealEvent.objects.order_by("appeal_id", "seq")
        if only_appeal is not None:
            appeals, events = appeals.filter(pk=only_appeal), events.filter(appeal_id=only_appeal)
        groups = (
            (appeal_id, list(group))
            for appeal_id, group in itertools.groupby(
                events.iterator(chunk_size=chunk_size), key=attrgetter("appeal_id")
            )
        )
        pending = next(groups, None)
        for appeal in appeals.iterator(chunk_size=chunk_size):
            while pending is not None and pending[0] < appeal.pk:
                pending = next(groups, None)
            if pending is not None and pending[0] == appeal.pk:
                yield appeal, pending[1]
                pending = next(groups, None)
            else:
                yield appeal, []
