"""The dashboard's filter form (GET, so every view is a shareable URL) and the report request form."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics.selectors import Filters
from appeals.models import Channel, EnterpriseSize, Industry
from routing.models import Region

MAX_DAYS = 366
DEFAULT_DAYS = 28


def default_range(today: date | None = None) -> tuple[date, date]:
    """The last four weeks up to today."""
    today = today or timezone.localdate()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def _blank(choices) -> list[tuple[str, str]]:
    return [("", _("全部")), *choices]


class FilterForm(forms.Form):
    start = forms.DateField(
        label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}), input_formats=["%Y-%m-%d"]
    )
    end = forms.DateField(
        label=_("结束日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        input_formats=["%Y-%m-%d"],
        help_text=_("含当天。上一期、趋势均按同样天数往前推。"),
    )
    region = forms.ModelChoiceField(
        label=_("地区"), queryset=Region.objects.filter(is_active=True), required=False, empty_label=_("全部地区")
    )
    industry = forms.ChoiceField(label=_("行业"), choices=_blank(Industry.choices), required=False)
    size = forms.ChoiceField(label=_("企业规模"), choices=_blank(EnterpriseSize.choices), required=False)
    channel = forms.ChoiceField(label=_("渠道"), choices=_blank(Channel.choices), required=False)

    def clean(self):
        data = super().clean()
        default_start, default_end = default_range()
        start, end = data.get("start"), data.get("end")
        if start is None and end is None:
            start, end = default_start, default_end
        elif start is None:
            start = end - timedelta(days=DEFAULT_DAYS - 1)
        elif end is None:
            end = min(start + timedelta(days=DEFAULT_DAYS - 1), default_end)
        if end < start:
            raise forms.ValidationError(_("结束日期早于开始日期。请把两个日期对调，或重新选择。"))
        if (end - start).days + 1 > MAX_DAYS:
            raise forms.ValidationError(_("一次最多统计一年（366天）。请缩短日期范围。"))
        data["start"], data["end"] = start, end
        return data

    def to_filters(self, *, bureau_id: int | None = None) -> Filters:
        data = self.cleaned_data
        region = data.get("region")
        return Filters(
            start=data["start"],
            end=data["end"],
            region_id=region.pk if region else None,
            industry=data.get("industry") or "",
            size=data.get("size") or "",
            channel=data.get("channel") or "",
            bureau_id=bureau_id,
        )


class ReportRequestForm(FilterForm):
    LANGUAGES = [("zh-hans", _("中文")), ("en", _("英文"))]

    language = forms.ChoiceField(label=_("表头语言"), choices=LANGUAGES, initial="zh-hans")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("start", "end"):
            self.fields[name].required = True
            self.fields[name].error_messages["required"] = _("请选择日期（格式：年-月-日）。")
