"""``manage.py state_diagram``: the appeal state machine as Markdown with a Mermaid diagram.

Everything structural (states, transitions, sources, targets, the permission and condition
predicates) is read from ``Appeal``'s django-fsm-2 field, so the document cannot drift from the
code; only the Chinese names of transitions and predicates come from the tables below, and a
transition or predicate missing from them is still drawn, under its Python name.
``make docs`` writes the output to ``docs/state-machine.md``; a test fails when that file is stale.
"""

from __future__ import annotations

import inspect
from collections import defaultdict

from django.core.management.base import BaseCommand
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appeals.models import FINAL_STATES, Appeal, AppealState

TRANSITION_LABELS = {
    "route": gettext_lazy("自动派单"),
    "send_to_triage": gettext_lazy("转入待分拨"),
    "dispatch": gettext_lazy("分拨派单"),
    "reject": gettext_lazy("不予受理"),
    "merge": gettext_lazy("并单"),
    "unmerge": gettext_lazy("撤销并单"),
    "sign_for": gettext_lazy("签收"),
    "return_to_dispatch": gettext_lazy("退单"),
    "redispatch": gettext_lazy("退单审核（改派）"),
    "submit_for_review": gettext_lazy("提交审核"),
    "approve_reply": gettext_lazy("审核通过"),
    "send_back": gettext_lazy("退回修改"),
    "send_reply": gettext_lazy("答复"),
    "close": gettext_lazy("办结"),
    "reopen": gettext_lazy("重办"),
    "reopen_after_followup": gettext_lazy("回访未解决重办"),
    "withdraw": gettext_lazy("撤回"),
}

PREDICATE_LABELS = {
    # permissions (appeals.permissions)
    "can_dispatch": gettext_lazy("分拨员（或系统自动分拨）"),
    "is_bureau_handler": gettext_lazy("被派单位的承办人或负责人"),
    "is_bureau_lead": gettext_lazy("被派单位的负责人"),
    "is_assigned_officer_or_lead": gettext_lazy("签收的承办人或本单位负责人"),
    "anyone": gettext_lazy("诉求人（凭查询码）或系统"),
    # conditions (Appeal methods)
    "within_return_window": gettext_lazy("在退单时限内"),
    "bureau_requires_review": gettext_lazy("本单位答复须经负责人审核"),
    "bureau_replies_directly": gettext_lazy("本单位答复无需审核"),
    "has_closing_rating": gettext_lazy("评价为基本满意及以上，或答复后超过默认评价期未评价"),
    "has_bad_rating": gettext_lazy("评价为不满意或非常不满意（差评）"),
}

STATE_ORDER = [state.value for state in AppealState]


def _predicate(func) -> str:
    name = getattr(func, "__name__", str(func))
    label = PREDICATE_LABELS.get(name)
    return f"{label}（`{name}`）" if label else f"`{name}`"


def _transition_label(name: str) -> str:
    return str(TRANSITION_LABELS.get(name, name))


def _doc(method) -> str:
    doc = inspect.getdoc(method) or ""
    return doc.splitlines()[0] if doc else ""


def collect():
    """[(name, [sources], target, permission, [conditions], docstring line)] in a stable order."""
    field = Appeal._meta.get_field("state")
    grouped: dict[tuple[str, str], dict] = {}
    sources: dict[tuple[str, str], list[str]] = defaultdict(list)
    for transition in field.get_all_transitions(Appeal):
        key = (transition.name, str(transition.target))
        sources[key].append(str(transition.source))
        grouped[key] = {
            "name": transition.name,
            "target": str(transition.target),
            "permission": transition.permission,
            "conditions": list(transition.conditions),
            "doc": _doc(getattr(Appeal, transition.name)),
        }
    rows = []
    for key, item in grouped.items():
        item["sources"] = sorted(set(sources[key]), key=STATE_ORDER.index)
        rows.append(item)
    rows.sort(key=lambda r: (STATE_ORDER.index(r["sources"][0]), STATE_ORDER.index(r["target"]), r["name"]))
    return rows


def render() -> str:
    rows = collect()
    labels = {value: str(label) for value, label in AppealState.choices}
    used = {s for r in rows for s in r["sources"]} | {r["target"] for r in rows}
    states = [s for s in STATE_ORDER if s in used]
    initial = Appeal._meta.get_field("state").default
    outgoing = {s for r in rows for s in r["sources"]}

    lines = [
        "# " + _("诉求状态机"),
        "",
        "> "
        + _(
            "本文件由 `manage.py state_diagram` 根据 `appeals.models.Appeal` 上的 django-fsm-2 转换自动生成，"
            "请勿手工修改；修改状态机后运行 `make docs` 重新生成（测试会检查本文件是否过期）。"
            "Graphviz 版本见 `docs/state-machine.dot`（`manage.py graph_transitions appeals.Appeal`）。"
        ),
        "",
        "```mermaid",
        "stateDiagram-v2",
    ]
    for state in states:
        lines.append(f'    state "{labels[state]} {state}" as {state}')
    lines.append(f"    [*] --> {initial}")
    for row in rows:
        label = _transition_label(row["name"])
        if row["conditions"]:
            label += " 【" + _("有条件") + "】"
        for source in row["sources"]:
            lines.append(f"    {source} --> {row['target']}: {label}")
    for state in states:
        # A final state may still have a corrective way out (撤销并单, or 回访未解决重办 after 已办结),
        # and remains final.
        if state not in outgoing or state in FINAL_STATES:
            lines.append(f"    {state} --> [*]")
    lines += ["```", "", "## " + _("状态"), "", "| " + _("代码") + " | " + _("名称") + " | " + _("类型") + " |"]
    lines.append("|---|---|---|")
    for state in states:
        if state == initial:
            kind = _("初始")
        elif state in FINAL_STATES:
            kind = _("终态")
        else:
            kind = _("办理中")
        lines.append(f"| `{state}` | {labels[state]} | {kind} |")
    lines += [
        "",
        "## " + _("转换"),
        "",
        "| "
        + " | ".join([_("转换"), _("名称"), _("从"), _("到"), _("谁可以操作（权限）"), _("条件"), _("说明")])
        + " |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        sources = "、".join(labels[s] for s in row["sources"])
        conditions = "；".join(_predicate(c) for c in row["conditions"]) or "—"
        lines.append(
            f"| `{row['name']}` | {_transition_label(row['name'])} | {sources} | {labels[row['target']]} | "
            f"{_predicate(row['permission'])} | {conditions} | {row['doc']} |"
        )
    lines += [
        "",
        _(
            "延期（延期申请与审批）和催办、督办只改变时限与标记，不改变状态，因此不在图中；"
            "每次转换都会写入一条哈希链审计记录（`manage.py verify_audit` 校验）。"
        ),
    ]
    return "\n".join(lines) + "\n"


class Command(BaseCommand):
    help = _("把诉求状态机输出为 Markdown（Mermaid stateDiagram-v2），供 docs/state-machine.md 使用。")

    def add_arguments(self, parser):
        parser.add_argument("--language", default="zh-hans", help=_("输出语言（默认 zh-hans）。"))

    def handle(self, *args, **options):
        with translation.override(options["language"]):
            self.stdout.write(render(), ending="")
