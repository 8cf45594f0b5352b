"""``manage.py seed_demo``: demo bureaus, logins for every role, and appeals in every state.

Up to ``--bulk-threshold`` appeals (default 5,000) are made through the real services over the
past ten weeks; more than that switches to the bulk generator (rows and valid audit chains written
in batches over the past two years, with a progress bar). See ``appeals.demo``.
"""

from __future__ import annotations

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _
from tqdm import tqdm

from appeals import demo
from appeals.models import Appeal
from notifications import outbox

BULK_THRESHOLD = 5000


class Command(BaseCommand):
    help = _("生成演示数据：三个城市的承办单位、各角色演示账号，以及覆盖所有状态的诉求。")

    def add_arguments(self, parser):
        parser.add_argument("--appeals", type=int, default=300, help=_("生成诉求的件数（默认 300）。"))
        parser.add_argument(
            "--cities",
            default=",".join(demo.DEFAULT_CITIES),
            help=_("城市代码，以逗号分隔（默认 %(default)s；至少 3 个为宜）。"),
        )
        parser.add_argument("--seed", type=int, default=2026, help=_("随机种子：同样的种子生成同样的内容。"))
        parser.add_argument("--if-empty", action="store_true", help=_("已有诉求时什么也不做（make run 可重复执行）。"))
        parser.add_argument("--print-logins", action="store_true", help=_("只打印各角色的登录地址、用户名和密码。"))
        parser.add_argument(
            "--bulk-threshold",
            type=int,
            default=BULK_THRESHOLD,
            help=_("超过这个件数时改用批量写入（默认 5000）。"),
        )
        parser.add_argument("--batch-size", type=int, default=2000, help=_("批量写入时每批的诉求件数。"))
        parser.add_argument("--weeks", type=int, default=10, help=_("逐件生成时诉求分布在过去多少周（默认 10）。"))

    def handle(self, *args, **options):
        if options["print_logins"]:
            self._print_logins()
            return
        if options["appeals"] < 0:
            raise CommandError(_("--appeals 不能是负数。"))
        cities = [c.strip() for c in options["cities"].split(",") if c.strip()]
        known = demo.available_cities()
        unknown = [c for c in cities if c not in known]
        if unknown or not cities:
            raise CommandError(
                _("不认识的城市代码：%(unknown)s。可用的有：%(known)s。")
                % {"unknown": ", ".join(unknown) or "-", "known": ", ".join(known)}
            )
        if options["if_empty"] and Appeal.objects.exists():
            self.stdout.write(_("已有诉求数据，跳过生成演示数据（--if-empty）。"))
            return
        started = time.monotonic()
        count = options["appeals"]
        if count > options["bulk_threshold"]:
            made, events = self._bulk(cities, count, options)
        else:
            made, events = self._through_services(cities, count, options), None
        elapsed = time.monotonic() - started
        counts = demo.state_counts()
        self.stdout.write(
            _("已生成 %(count)d 件诉求（用时 %(seconds).1f 秒）。") % {"count": made, "seconds": elapsed}
            + (_("办理记录 %(events)d 条。") % {"events": events} if events is not None else "")
        )
        self.stdout.write("  " + "，".join(f"{label} {n}" for label, n in counts))
        self._print_logins()

    def _through_services(self, cities, count, options) -> int:
        # One transaction: a failed run leaves nothing behind, so `--if-empty` can simply run again
        # (and SQLite commits once instead of thousands of times).
        # outbox.batched(): whatever is still announced after commit goes out as one message, not one
        # Celery task per step of every demo appeal.
        before = demo.last_outbox_id()
        with transaction.atomic(), outbox.batched():
            org = self._organisation(cities, options)
            with tqdm(total=count, desc=_("生成诉求"), unit="件", disable=count < 50, file=self.stderr) as bar:
                appeals = demo.seed_appeals(
                    org, count, seed=options["seed"], weeks=options["weeks"], progress=lambda n: bar.update(1)
                )
            settled = demo.settle_notifications(after_id=before)
        self.stdout.write(
            _("演示历史产生的 %(count)d 条通知已记为“未发送”（过去的事件不再投递）。") % {"count": settled}
        )
        # The dashboard shows the demo history at once instead of after the periodic rollup update.
        call_command("rebuild_rollups", no_progress=True, stdout=self.stdout)
        return len(appeals)

    def _bulk(self, cities, count, options) -> tuple[int, int]:
        org = self._organisation(cities, options)
        result = demo.generate_bulk(
            count, seed=options["seed"], batch_size=options["batch_size"], progress=True, org=org
        )
        return result.appeals, result.events

    def _organisation(self, cities, options):
        org = demo.setup_organisation(cities, seed=options["seed"])
        self.stdout.write(
            _("已准备 %(cities)d 个城市的承办单位和 %(users)d 个演示账号。")
            % {"cities": len(org.regions), "users": 4 + len(org.officers) + len(org.leads)}
        )
        return org

    def _print_logins(self):
        rows = demo.login_rows()
        header = (_("角色"), _("地址"), _("用户名"), _("密码"), _("可以做什么"))
        self.stdout.write("")
        self.stdout.write(_("演示账号（所有账号的密码相同）："))
        widths = [16, 14, 26, 14]
        self.stdout.write("  " + "".join(_pad(h, w) for h, w in zip(header[:4], widths, strict=True)) + header[4])
        for role, path, username, note in rows:
            cells = (role, path, username, demo.DEMO_PASSWORD)
            self.stdout.write("  " + "".join(_pad(c, w) for c, w in zip(cells, widths, strict=True)) + note)
        self.stdout.write(
            _(
                "  每个承办单位都有承办人 officer_<城市>_<部门> 和负责人 lead_<城市>_<部门>，"
                "例如 officer_guangzhou_tax。"
            )
        )


def _pad(text: str, width: int) -> str:
    # CJK characters take two columns in a terminal.
    used = sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
    return text + " " * max(width - used, 1)
