"""``manage.py audit_checkpoint``: sign today's digest of every audit-chain head, or export one.

Without options it builds a checkpoint now (what the daily beat task does). ``--export FILE``
writes the newest checkpoint (after building one, unless ``--no-build``) as JSON for an outside
witness; ``-`` writes to standard output.
"""

from __future__ import annotations

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from appeals import audit_checkpoints


class Command(BaseCommand):
    help = _("生成审计链头摘要（每件诉求的最新记录，经审计密钥签名），可导出为 JSON 交外部保存。")

    def add_arguments(self, parser):
        parser.add_argument("--export", metavar="FILE", help=_("把最新的链头摘要导出为 JSON 文件（- 表示标准输出）。"))
        parser.add_argument("--no-build", action="store_true", help=_("不生成新的摘要，只导出已有的最新一份。"))

    def handle(self, *args, **options):
        started = time.monotonic()
        if options["no_build"]:
            checkpoint = audit_checkpoints.latest_checkpoint()
            if checkpoint is None:
                raise CommandError(_("还没有任何链头摘要：先不带 --no-build 运行一次。"))
        else:
            checkpoint = audit_checkpoints.build_checkpoint()
            self.stderr.write(
                _("已生成链头摘要：%(appeals)d 件诉求、%(events)d 条办理记录，%(bytes)d 字节，用时 %(seconds).1f 秒。")
                % {
                    "appeals": checkpoint.appeal_count,
                    "events": checkpoint.event_count,
                    "bytes": len(checkpoint.heads),
                    "seconds": time.monotonic() - started,
                }
            )
        target = options["export"]
        if target == "-":
            audit_checkpoints.export_checkpoint(checkpoint, sys.stdout)
        elif target:
            with open(target, "w", encoding="utf-8") as stream:
                audit_checkpoints.export_checkpoint(checkpoint, stream)
            self.stderr.write(_("已导出到 %(path)s") % {"path": target})
