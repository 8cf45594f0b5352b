"""The dashboard's filter form (GET, so every view is a shareable URL) and the report request form."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics.selectors import Filters
from appeals.models import Channel, EnterpriseSize, Industry
from routing.appeal_types import AppealType
from routing.models import Region

MAX_DAYS = 366
DEFAULT_DAYS = 28
# Dates outside this range are refused with a message. The dashboard also reads up to eight earlier
# periods of up to a year (trend, baselines), so a date near ``date.min``/``date.max`` would
# overflow; no appeal predates the platform, and nobody needs statistics of the next century.
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)


def default_range(today: date | None = None) -> tuple[date, date]:
    """The last four weeks up to today."""
    today = today or timezone.localdate()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def _blank(choices) -> list[tuple[str, str]]:
    return [("", _("全部")), *choices]


class PeriodDateField(forms.DateField):
    """A YYYY-MM-DD date between ``EARLIEST`` and ``LATEST``, with messages that say what to type."""

    default_error_messages = {"invalid": _("请按“年-月-日”填写日期，例如 2026-11-02。")}

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date", "min": EARLIEST, "max": LATEST}))
        super().__init__(input_formats=["%Y-%m-%d"], **kwargs)

    def validate(self, value):
        super().validate(value)
        if value is not None and not EARLIEST <= value <= LATEST:
            raise forms.ValidationError(
                _("日期须在 %(earliest)s 至 %(latest)s 之间。"),
                code="out_of_range",
                params={"earliest": f"{EARLIEST:%Y-%m-%d}", "latest": f"{LATEST:%Y-%m-%d}"},
            )


class RegionChoiceField(forms.ModelChoiceField):
    """A region id; anything but a short number is "not a choice" before it reaches the database.

    (A 30-digit id would overflow the database's integer type: a 500 instead of a message.)
    """

    def to_python(self, value):
        if value not in self.empty_values and not (str(value).isdigit() and len(str(value)) <= 18):
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class FilterForm(forms.Form):
    start = PeriodDateField(label=_("开始日期"), required=False)
    end = PeriodDateField(label=_("结束日期"), required=False, help_text=_("含当天。上一期、趋势均按同样天数往前推。"))
    region = RegionChoiceField(
        label=_("地区"),
        queryset=Region.objects.filter(is_active=True),
        required=False,
        empty_label=_("全部地区"),
        error_messages={"invalid_choice": _("没有这个地区，请从列表中选择。")},
    )
    industry = forms.ChoiceField(
        label=_("行业"),
        choices=_blank(Industry.choices),
        required=False,
        error_messages={"invalid_choice": _("没有这个行业，请从列表中选择。")},
    )
    size = forms.ChoiceField(
        label=_("企业规模"),
        choices=_blank(EnterpriseSize.choices),
        required=False,
        error_messages={"invalid_choice": _("没有这个企业规模，请从列表中选择。")},
    )
    channel = forms.ChoiceField(
        label=_("渠道"),
        choices=_blank(Channel.choices),
        required=False,
        error_messages={"invalid_choice": _("没有这个渠道，请从列表中选择。")},
    )
    appeal_type = forms.ChoiceField(
        label=_("诉求类型"),
        choices=_blank(AppealType.choices),
        required=False,
        error_messages={"invalid_choice": _("没有这个诉求类型，请从列表中选择。")},
    )

    def clean(self):
        data = super().clean()
        default_start, default_end = default_range()
        start, end = data.get("start"), data.get("end")
        if start is None and end is None:
            start, end = default_start, default_end
        elif start is None:
            start = max(end - timedelta(days=DEFAULT_DAYS - 1), EARLIEST)
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
            appeal_type=data.get("appeal_type") or "",
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
