"""The knowledge base (政策问答): articles, their history, and what businesses were shown while filing.

An article answers one question in plain language, for one category, optionally limited to a region
and an appeal type, and valid between two dates. It is written by bureau staff (or promoted from a
replied enquiry) and published only after the bureau lead's review. Every change of state is kept as
an ``ArticleEvent``. ``SuggestionSession`` records, per visit to the public form, which articles were
suggested and opened and whether the business still filed, so analytics can show deflection.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from routing.appeal_types import AppealType


class ArticleState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    IN_REVIEW = "in_review", _("待负责人审核")
    PUBLISHED = "published", _("已发布")
    RETIRED = "retired", _("已下线")


class ArticleQuerySet(models.QuerySet):
    def live(self, *, on=None):
        """Published and valid on ``on`` (today by default): what the public may see."""
        day = on or timezone.localdate()
        return self.filter(state=ArticleState.PUBLISHED).filter(
            models.Q(valid_from__isnull=True) | models.Q(valid_from__lte=day),
            models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=day),
        )


class Article(models.Model):
    bureau = models.ForeignKey(
        "routing.Bureau", verbose_name=_("负责单位"), on_delete=models.PROTECT, related_name="knowledge_articles"
    )
    category = models.ForeignKey(
        "routing.Category", verbose_name=_("诉求类别"), on_delete=models.PROTECT, related_name="knowledge_articles"
    )
    region = models.ForeignKey(
        "routing.Region",
        verbose_name=_("适用地区"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="knowledge_articles",
        help_text=_("留空表示全省适用；选择地市则对其下辖区县同样适用。"),
    )
    appeal_type = models.CharField(
        _("诉求类型"), max_length=12, choices=AppealType.choices, blank=True, help_text=_("留空表示不限类型。")
    )
    question = models.CharField(_("问题"), max_length=200)
    answer = models.TextField(_("解答"), help_text=_("用通俗易懂的语言写，纯文本；网址会自动变成链接。"))
    question_en = models.CharField(_("问题（英文）"), max_length=300, blank=True)
    answer_en = models.TextField(_("解答（英文）"), blank=True)
    policy_source = models.CharField(_("政策依据"), max_length=200, blank=True, help_text=_("文件名称和文号。"))
    policy_url = models.URLField(_("政策原文链接"), blank=True)
    valid_from = models.DateField(_("生效日期"), null=True, blank=True)
    valid_until = models.DateField(_("失效日期"), null=True, blank=True, db_index=True)
    state = models.CharField(
        _("状态"), max_length=12, choices=ArticleState.choices, default=ArticleState.DRAFT, db_index=True
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("撰写人"), on_delete=models.PROTECT, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    source_appeal = models.ForeignKey(
        "appeals.Appeal",
        verbose_name=_("来源诉求"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    expiry_warned_at = models.DateTimeField(_("到期提醒于"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True, db_index=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        verbose_name = _("政策问答")
        verbose_name_plural = _("政策问答")
        ordering = ["-published_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_from__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="knowledge_article_valid_range",
            )
        ]

    def __str__(self) -> str:
        return self.question

    def localized(self, language: str) -> tuple[str, str]:
        """(question, answer) in ``language`` where an English text exists, else the Chinese one."""
        if language.startswith("en") and self.question_en and self.answer_en:
            return self.question_en, self.answer_en
        return self.question, self.answer


class ArticleEvent(models.Model):
    """One step in an article's life: who did what, when, and why. Append-only."""

    class Kind(models.TextChoices):
        CREATED = "created", _("创建")
        PROMOTED = "promoted", _("由诉求答复转为问答")
        EDITED = "edited", _("修改")
        SUBMITTED = "submitted", _("提交审核")
        PUBLISHED = "published", _("审核通过并发布")
        SENT_BACK = "sent_back", _("退回修改")
        RETIRED = "retired", _("下线")
        EXPIRED = "expired", _("到期自动下线")
        EXPIRY_WARNED = "expiry_warned", _("到期提醒")

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    note = models.TextField(_("说明"), blank=True)
    changes = models.JSONField(_("修改内容"), default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("政策问答记录")
        verbose_name_plural = _("政策问答记录")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.article_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"


class SuggestionSession(models.Model):
    """One visit to the public form: what was suggested, what was opened, whether the business filed.

    The token is random and per page load; it carries no personal data. ``filed_at`` is set when the
    form is sent after suggestions were shown.
    """

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    category = models.ForeignKey("routing.Category", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    shown = models.JSONField(default=list)
    opened = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    filed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("答案推荐记录")
        verbose_name_plural = _("答案推荐记录")

    def __str__(self) -> str:
        return str(self.token)
