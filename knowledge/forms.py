"""Forms of the knowledge base: public search, the staff article editor and review decisions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from knowledge.models import Article
from routing.models import Category, Region


class PublicSearchForm(forms.Form):
    q = forms.CharField(label=_("搜索问题"), max_length=100, required=False)
    category = forms.ModelChoiceField(
        label=_("诉求类别"), queryset=Category.objects.filter(is_active=True), required=False, empty_label=_("全部类别")
    )
    region = forms.ModelChoiceField(
        label=_("所在地区"), queryset=Region.objects.filter(is_active=True), required=False, empty_label=_("全省")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Labels follow the interface language (display_name), not the model's __str__ at import.
        self.fields["category"].label_from_instance = lambda c: c.display_name  # type: ignore[attr-defined]
        self.fields["region"].label_from_instance = lambda r: r.display_name  # type: ignore[attr-defined]


class SuggestForm(forms.Form):
    """What the public form sends while the business types (all optional but the text)."""

    token = forms.UUIDField(required=False)
    title = forms.CharField(max_length=200, required=False)
    description = forms.CharField(max_length=5000, required=False)
    category = forms.IntegerField(required=False, min_value=1)
    region = forms.IntegerField(required=False, min_value=1)


class ArticleForm(forms.ModelForm):
    policy_url = forms.URLField(label=_("政策原文链接"), required=False, assume_scheme="https")

    class Meta:
        model = Article
        fields = [
            "question",
            "answer",
            "category",
            "region",
            "appeal_type",
            "policy_source",
            "policy_url",
            "valid_from",
            "valid_until",
            "question_en",
            "answer_en",
        ]
        widgets = {
            "answer": forms.Textarea(attrs={"rows": 8}),
            "answer_en": forms.Textarea(attrs={"rows": 6}),
            "valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(is_active=True)  # type: ignore[attr-defined]
        self.fields["region"].queryset = Region.objects.filter(is_active=True)  # type: ignore[attr-defined]
        self.fields["category"].label_from_instance = lambda c: c.display_name  # type: ignore[attr-defined]
        self.fields["region"].label_from_instance = lambda r: r.display_name  # type: ignore[attr-defined]

    def clean_policy_url(self) -> str:
        url = self.cleaned_data.get("policy_url", "")
        if url and not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError(_("政策原文链接必须以 http:// 或 https:// 开头。"))
        return url

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("失效日期不能早于生效日期。"))
        if bool(data.get("question_en")) != bool(data.get("answer_en")):
            self.add_error("answer_en", _("英文问题和英文解答需要同时填写，或都不填。"))
        return data


class PublishForm(forms.Form):
    confirmed = forms.BooleanField(
        label=_("我已核对全文，没有企业名称、联系人、电话、证件号、地址等个人信息。"), required=False
    )
    public_details_confirmed = forms.BooleanField(
        label=_("文中标出的电话、地址等是公开的政务信息（如热线电话、办事大厅地址）。"), required=False
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
