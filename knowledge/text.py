"""Text helpers for the knowledge base: matching features and removal of personal details.

Matching uses the router's own character n-grams (``routing.classifier.char_features``) after the
same Unicode normalisation the form applies, so a suggestion and a routing decision see a text the
same way. Redaction runs when a replied appeal is promoted to an article: the bureau lead still
reviews the result, but nothing that looks like a phone number, ID or credit code, e-mail, address,
company or person's name leaves the appeal unmasked.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from routing.classifier import char_features


def normalise(text: str) -> str:
    """NFKC (full-width letters and digits to half-width), lower case, collapsed spaces."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or "")).strip().lower()


def match_features(text: str) -> list[str]:
    """The features a question or a half-typed appeal is compared by."""
    return char_features(normalise(text))


# --- Redaction ------------------------------------------------------------------------------------

# Common surnames: "王先生", "李经理" and "联系人张三" are how people name themselves in appeals.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)

# Order matters: longer, more specific patterns first (an ID number contains a phone-like run).
_PATTERNS: list[tuple[str, re.Pattern[str], str]] = [
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[邮箱]"),
    ("id_number", re.compile(r"(?<!\d)\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[\dXx](?!\d)"), "[证件号]"),
    (
        "credit_code",
        re.compile(r"(?<![0-9A-Za-z])[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{2}\d{6}[0-9A-Za-z]{10}(?![0-9A-Za-z])"),
        "[信用代码]",
    ),
    ("phone", re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)"), "[电话]"),
    ("phone", re.compile(r"(?<!\d)0\d{2,3}[- ]?\d{7,8}(?!\d)"), "[电话]"),
    (
        "address",
        re.compile(
            r"[\u4e00-\u9fff0-9]{2,20}(?:路|街|大道|大街|巷|村|工业园|工业区|园区)[\u4e00-\u9fff0-9]{0,10}?"
            r"\d+(?:-\d+)?(?:号|栋|座|幢|楼|室)(?:[\u4e00-\u9fff0-9]{0,6}(?:号|栋|座|幢|楼|室))*"
        ),
        "[地址]",
    ),
    (
        "company",
        re.compile(
            r"[\u4e00-\u9fff（）()]{2,24}?(?:股份有限公司|有限责任公司|有限公司|分公司|公司|工厂|厂|商行|经营部|门市部|合作社)"
        ),
        "[企业]",
    ),
    (
        "person",
        re.compile(rf"[{_SURNAMES}][\u4e00-\u9fff]?(?:先生|女士|小姐|经理|老板|总经理|主任|师傅|老师)"),
        "[联系人]",
    ),
    ("person", re.compile(r"(?<=联系人)[:：]?\s*[\u4e00-\u9fff]{2,3}"), "：[联系人]"),
]

# "我们公司", "该厂": a business speaking of itself names nobody.
_GENERIC = re.compile(r"(?:我们|我司|我|本|贵|该|这家|那家|这个|一家|小|子|总|分)?(?:公司|工厂|厂)")

KIND_LABELS = {
    "known": _("诉求中的企业名称、联系人等"),
    "email": _("电子邮箱"),
    "credit_code": _("统一社会信用代码"),
    "id_number": _("身份证号"),
    "phone": _("电话号码"),
    "address": _("详细地址"),
    "company": _("企业名称"),
    "person": _("人名称呼"),
}


@dataclass
class Redacted:
    text: str
    found: dict[str, int] = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        return [f"{KIND_LABELS[kind]} × {count}" for kind, count in self.found.items()]


_REGION_PREFIX = re.compile(
    r"^(?:[\u4e00-\u9fff]{1,6}?省)?(?:[\u4e00-\u9fff]{1,6}?市)?(?:[\u4e00-\u9fff]{1,6}?[区县镇])?"
)
_LEGAL_SUFFIX = re.compile(r"(?:股份有限公司|有限责任公司|有限公司|分公司|公司|工厂|厂|商行|经营部|门市部|合作社|店)$")
_TRADE_SUFFIX = re.compile(r"(?:制品|制造|科技|实业|贸易|电子|电器|五金|服装|食品|建材|物流|餐饮|工程|发展)$")


def name_variants(enterprise_name: str) -> list[str]:
    """The ways a business names itself: "佛山市南海区华辉五金制品有限公司" → "华辉五金制品", "华辉五金", "华辉"…

    People write the trade name (字号) without the region or the legal form, so redacting only the
    registered name would leave it in the text.
    """
    name = (enterprise_name or "").strip()
    variants = {name}
    core = _LEGAL_SUFFIX.sub("", _REGION_PREFIX.sub("", name))
    if len(core) >= 2:
        variants.add(core)
        trade = core
        while len(trade) >= 2:  # "华辉五金制品" → "华辉五金" → "华辉": one industry word at a time
            variants.add(trade)
            shorter = _TRADE_SUFFIX.sub("", trade)
            if shorter == trade:
                break
            trade = shorter
        variants.add(trade[:2])
    return sorted((v for v in variants if len(v) >= 2), key=len, reverse=True)


def redact(text: str, *, known: Iterable[str] = ()) -> Redacted:
    """Replace personal and identifying details in ``text`` with bracketed placeholders.

    ``known`` are strings taken from the appeal itself (enterprise name, contact name, phone, e-mail,
    credit code): they are removed wherever they occur, before the patterns run.
    """
    found: dict[str, int] = {}
    out = text or ""
    for value in sorted({v.strip() for v in known if v and len(v.strip()) >= 2}, key=len, reverse=True):
        count = out.count(value)
        if count:
            out = out.replace(value, "[已隐去]")
            found["known"] = found.get("known", 0) + count
    for kind, pattern, placeholder in _PATTERNS:
        count = 0

        def replace(match: re.Match[str], placeholder: str = placeholder) -> str:
            nonlocal count
            if _GENERIC.fullmatch(match.group(0)):
                return match.group(0)
            count += 1
            return placeholder

        out = pattern.sub(replace, out)
        if count:
            found[kind] = found.get(kind, 0) + count
    return Redacted(out, found)


def personal_data_left(text: str) -> list[str]:
    """Labels of anything in ``text`` that still looks personal (checked again before publishing)."""
    return redact(text).labels
