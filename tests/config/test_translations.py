"""The English catalogue is complete, compiled, and what the site actually shows in English.

The msgids are Simplified Chinese; English comes only from locale/en/LC_MESSAGES/django.po and its
compiled django.mo (committed, so a machine without gettext still gets English). These tests read the
.po with a tiny parser (no polib, no gettext tools needed) and compare it with the .mo.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")

PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdfr]|%%|%[sd]|\{\w*\}")


@dataclass
class Entry:
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> str:
        return f"{self.msgctxt}\x04{self.msgid}" if self.msgctxt is not None else self.msgid


def parse_po(path: Path) -> list[Entry]:
    """Just enough of the PO format for what makemessages writes (obsolete #~ entries are skipped)."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None

    def finish() -> None:
        nonlocal current
        if current is not None and (current.msgstr or current.msgid):
            entries.append(current)
        current = None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            if current is not None and (current.msgid or current.msgstr):
                finish()
            current = current or Entry(line=number)
            current.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        keyword, _sep, rest = line.partition(" ")
        if line.startswith('"'):
            assert current is not None and target is not None, f"{path}:{number}: stray string"
            text = ast.literal_eval(line)
        else:
            text = ast.literal_eval(rest)
            if keyword in ("msgctxt", "msgid") and current is not None and current.msgstr:
                finish()
            current = current or Entry(line=number)
            target = ("msgstr", int(keyword[7:-1])) if keyword.startswith("msgstr[") else (keyword, 0)
            if target[0] == "msgstr":
                current.msgstr.setdefault(target[1], "")
            elif target[0] == "msgid_plural":
                current.msgid_plural = ""
            elif target[0] == "msgctxt":
                current.msgctxt = ""
        assert current is not None and target is not None
        name, index = target
        if name == "msgstr":
            current.msgstr[index] += text
        elif name == "msgid":
            current.msgid += text
        elif name == "msgid_plural":
            current.msgid_plural = (current.msgid_plural or "") + text
        elif name == "msgctxt":
            current.msgctxt = (current.msgctxt or "") + text
    finish()
    return entries


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    assert PO.exists(), "run: python manage.py makemessages -l en (see docs) — the English catalogue is missing"
    parsed = parse_po(PO)
    assert parsed[0].msgid == "", "the .po should start with its header"
    return parsed


def messages(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if e.msgid != ""]


def test_locale_path_and_languages_are_configured():
    assert Path(settings.LOCALE_PATHS[0]) == ROOT / "locale"
    assert "en" in dict(settings.LANGUAGES)


def test_header_is_not_fuzzy_and_declares_utf8_and_plurals(entries):
    header = entries[0]
    assert "fuzzy" not in header.flags, "a fuzzy header is ignored by msgfmt (charset and plural forms get lost)"
    assert "charset=UTF-8" in header.msgstr[0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header.msgstr[0]


def test_every_entry_is_translated_and_none_is_fuzzy(entries):
    msgs = messages(entries)
    assert len(msgs) > 500, "suspiciously few messages: was makemessages run with the right --ignore list?"
    fuzzy = [f"line {e.line}: {e.msgid}" for e in msgs if "fuzzy" in e.flags]
    untranslated = [f"line {e.line}: {e.msgid}" for e in msgs if not e.msgstr or any(not s for s in e.msgstr.values())]
    assert not fuzzy, "fuzzy entries (check the English, then remove the flag):\n" + "\n".join(fuzzy)
    assert not untranslated, "untranslated entries:\n" + "\n".join(untranslated)
    plural = [e for e in msgs if e.msgid_plural is not None]
    assert all(set(e.msgstr) == {0, 1} for e in plural), "English plural entries need msgstr[0] and msgstr[1]"


def test_translations_keep_every_placeholder(entries):
    wrong = []
    for e in messages(entries):
        sources = [e.msgid] if e.msgid_plural is None else [e.msgid, e.msgid_plural]
        for index, text in e.msgstr.items():
            source = sources[min(index, len(sources) - 1)]
            if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(text)):
                wrong.append(f"line {e.line}: {source!r} -> {text!r}")
    assert not wrong, "placeholders differ between the Chinese msgid and the English msgstr:\n" + "\n".join(wrong)


def test_compiled_catalogue_matches_the_po(entries):
    """The committed .mo holds exactly what the .po says: a stale .mo (edited .po, no compilemessages) fails.

    Comparing contents rather than file times: a fresh git clone writes both files at checkout time in an
    arbitrary order, so modification times mean nothing there.
    """
    assert MO.exists(), "run: python manage.py compilemessages -l en"
    with MO.open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)._catalog  # type: ignore[attr-defined]
    stale = []
    for e in messages(entries):
        if e.msgid_plural is None:
            if catalog.get(e.key) != e.msgstr[0]:
                stale.append(e.msgid)
        else:
            for index, text in e.msgstr.items():
                if catalog.get((e.key, index)) != text:
                    stale.append(e.msgid)
    compiled = {k if isinstance(k, str) else k[0] for k in catalog if k != ""}
    extra = compiled - {e.key for e in messages(entries)}
    assert not stale, "django.mo is out of date; run compilemessages -l en. Differences:\n" + "\n".join(stale)
    assert not extra, "django.mo has messages the .po no longer has; run compilemessages -l en"


def test_mo_is_not_older_than_po_in_a_working_tree():
    """Where someone edited the .po by hand in this tree, the .mo must have been rebuilt after it.

    Only meaningful when the .po is clearly newer (a few seconds); checkouts write both at once.
    """
    assert MO.stat().st_mtime >= PO.stat().st_mtime - 5, "django.mo is older than django.po: run compilemessages"


@pytest.mark.parametrize(
    ("chinese", "english"),
    [
        ("受理编号", "Tracking number"),
        ("查询码", "Access code"),
        ("承办单位", "Responsible bureau"),
        ("待分拨", "Awaiting triage"),
        ("签收", "Sign for"),
        ("退单", "Return"),
        ("非常满意", "Very satisfied"),
        ("基本满意", "Basically satisfied"),
        ("非常不满意", "Very dissatisfied"),
        ("统一社会信用代码", "Unified social credit code"),
        ("提交企业诉求", "Submit a business appeal"),
    ],
)
def test_key_strings_render_in_english(chinese, english):
    with translation.override("en"):
        assert _(chinese) == english
    with translation.override("zh-hans"):
        assert _(chinese) == chinese


def test_placeholders_and_plurals_work_in_english():
    with translation.override("en"):
        assert _("已派单至%(bureau)s。") % {"bureau": "Tax Bureau"} == "Dispatched to Tax Bureau."
        assert ngettext("已重新排队 %(count)d 条通知。", "已重新排队 %(count)d 条通知。", 1) % {"count": 1} == (
            "1 notification queued again."
        )
        assert ngettext("已重新排队 %(count)d 条通知。", "已重新排队 %(count)d 条通知。", 3) % {"count": 3} == (
            "3 notifications queued again."
        )


def test_templates_render_in_english():
    template = Template(
        "{% load i18n %}{% translate '剩余 %s' %}|{% translate '诉求已提交成功' %}|"
        "{% blocktranslate count counter=n %}有{{ counter }}处需要修改{% plural %}有{{ counter }}处需要修改"
        "{% endblocktranslate %}"
    )
    with translation.override("en"):
        assert template.render(Context({"n": 2})) == (
            "%s left|Your appeal has been submitted|There are 2 problems to correct"
        )
