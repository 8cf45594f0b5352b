"""Mark text written by people (appellants, staff) with its language.

The interface is translated; what people typed is not. In the English interface a screen reader needs
``lang="zh-Hans"`` on a Chinese title or note to pronounce it, and the English-completeness test skips
exactly the marked text. ``<p{{ value|lang_attr }}>{{ value }}</p>`` adds the attribute only when the
value holds Chinese, so an English name or note is not mislabelled.
"""

from __future__ import annotations

import re

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@register.filter
def lang_attr(value: object) -> SafeString:
    """`` lang="zh-Hans"`` (with its leading space) when ``value`` holds Chinese, else nothing."""
    return mark_safe(' lang="zh-Hans"') if _CJK.search(str(value or "")) else mark_safe("")
