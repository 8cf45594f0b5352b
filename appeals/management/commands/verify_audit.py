"""``manage.py verify_audit``: check every appeal's hash-chained audit trail.

Streams the events in (appeal, seq) order with a chunked iterator, so memory stays flat on
millions of rows, and checks each appeal's chain with ``appeals.audit.verify_chain``. It also
reports appeals that have no events at all (their whole chain was deleted) and appeals whose
current state differs from the state their last transition recorded (the state was changed behind
the services' back). Exit code 1 when anything is wrong, so it can run from cron or CI.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Exists, F, OuterRef
from django.utils.translation import gettext as _

from appeals.audit import ChainProblem, verify_chain
from appeals.models import Appeal, AppealEvent

CHUNK_SIZE = 5000


@dataclass
class Summary:
    appeals: int = 0
    events: int = 0
    problems: int = 0


class Command(BaseCommand):
    help = _("校验诉求办理记录（审计链）是否被篡改：逐件检查哈希链，发现问题时退出码为 1。")

    def add_arguments(self, parser):
        parser.add_argument("--appeal", metavar="TRACKING_NUMBER", help=_("只检查这一件诉求（受理编号）。"))
        parser.add_argument(
            "--chunk-size", type=int, default=CHUNK_SIZE, help=_("每次从数据库读取的记录条数（默认 5000）。")
        )
        parser.add_argument("--quiet", action="store_true", help=_("只在发现问题时输出。"))

    def handle(self, *args, **options):
        started = time.monotonic()
        appeals = Appeal.objects.all()
        only_appeal = None
        if options["appeal"]:
            number = "".join(ch for ch in options["appeal"] if ch.isdigit())
            appeals = appeals.filter(tracking_number=number)
            only_appeal = appeals.values_list("pk", flat=True).first()
            if only_appeal is None:
                raise CommandError(
                    _("找不到受理编号为 %(number)s 的诉求，请核对编号。") % {"number": options["appeal"]}
                )
        summary = Summary()
        numbers: dict[int, str] = {}

        def report(problem: ChainProblem, state_note: str = "") -> None:
            summary.problems += 1
            number = numbers.get(problem.appeal_id)
            if number is None:
                number = Appeal.objects.filter(pk=problem.appeal_id).values_list("tracking_number", flat=True).first()
                numbers[problem.appeal_id] = number or f"#{problem.appeal_id}"
                number = numbers[problem.appeal_id]
            self.stdout.write(f"{number}\t#{problem.seq}\t{problem.problem}{state_note}")

        for appeal_id, events, current_state in self._chains(only_appeal, options["chunk_size"]):
            summary.appeals += 1
            summary.events += len(events)
            for problem in verify_chain(events):
                report(problem)
            last_state = next((e.to_state for e in reversed(events) if e.to_state), "")
            if last_state and current_state != last_state:
                report(
                    ChainProblem(
                        appeal_id,
                        events[-1].seq,
                        f"appeal state is '{current_state}' but the audit trail ends in '{last_state}'",
                    )
                )

        # Appeals with no events at all: the whole chain is gone.
        orphans = appeals.filter(~Exists(AppealEvent.objects.filter(appeal=OuterRef("pk"))))
        for appeal_id, number in orphans.values_list("pk", "tracking_number").iterator(
            chunk_size=options["chunk_size"]
        ):
            summary.appeals += 1
            numbers[appeal_id] = number
            report(ChainProblem(appeal_id, 0, "appeal has no audit events (chain deleted)"))

        elapsed = time.monotonic() - started
        line = _(
            "共检查 %(appeals)d 件诉求、%(events)d 条办理记录，发现 %(problems)d 个问题（用时 %(seconds).1f 秒）。"
        ) % {
            "appeals": summary.appeals,
            "events": summary.events,
            "problems": summary.problems,
            "seconds": elapsed,
        }
        if summary.problems:
            self.stderr.write(line)
            raise CommandError(
                _("审计链校验未通过：以上记录可能被修改或删除。请从备份核对这些诉求的办理记录，并检查数据库访问日志。")
            )
        if not options["quiet"]:
            self.stdout.write(self.style.SUCCESS(line))

    def _chains(self, only_appeal: int | None, chunk_size: int) -> Iterator[tuple[int, Sequence[AppealEvent], str]]:
        """(appeal id, its events in seq order, the appeal's current state), one appeal at a time."""
        events = AppealEvent.objects.all()
        if only_appeal is not None:
            events = events.filter(appeal_id=only_appeal)
        rows = (
            events.annotate(appeal_state=F("appeal__state"))
            .order_by("appeal_id", "seq")
            .iterator(chunk_size=chunk_size)
        )
        for appeal_id, group in itertools.groupby(rows, key=lambda e: e.appeal_id):
            chain = list(group)
            yield appeal_id, chain, chain[0].appeal_state
