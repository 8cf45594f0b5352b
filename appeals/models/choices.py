"""Choices of the appeals app: industries, sizes, states, urgency, channels, rating levels."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Industry(models.TextChoices):
    """GB/T 4754-2017 sections."""

    A = "A", _("农、林、牧、渔业")
    B = "B", _("采矿业")
    C = "C", _("制造业")
    D = "D", _("电力、热力、燃气及水生产和供应业")
    E = "E", _("建筑业")
    F = "F", _("批发和零售业")
    G = "G", _("交通运输、仓储和邮政业")
    H = "H", _("住宿和餐饮业")
    I = "I", _("信息传输、软件和信息技术服务业")  # noqa: E741 - the standard's own section letter
    J = "J", _("金融业")
    K = "K", _("房地产业")
    L = "L", _("租赁和商务服务业")
    M = "M", _("科学研究和技术服务业")
    N = "N", _("水利、环境和公共设施管理业")
    O = "O", _("居民服务、修理和其他服务业")  # noqa: E741
    P = "P", _("教育")
    Q = "Q", _("卫生和社会工作")
    R = "R", _("文化、体育和娱乐业")
    S = "S", _("公共管理、社会保障和社会组织")
    T = "T", _("国际组织")


class EnterpriseSize(models.TextChoices):
    MICRO = "micro", _("微型")
    SMALL = "small", _("小型")
    MEDIUM = "medium", _("中型")


class AppealState(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    TRIAGE = "triage", _("待分拨")
    DISPATCHED = "dispatched", _("已派单")
    RETURNED = "returned", _("退单待审核")
    HANDLING = "handling", _("办理中")
    REVIEW = "review", _("待审核")
    REPLIED = "replied", _("已答复")
    CLOSED = "closed", _("已办结")
    WITHDRAWN = "withdrawn", _("已撤回")
    REJECTED = "rejected", _("不予受理")
    MERGED = "merged", _("已并单")


S = AppealState
# States before a reply has gone out: the appellant may still withdraw, deadlines still run.
OPEN_STATES = [S.SUBMITTED, S.TRIAGE, S.DISPATCHED, S.RETURNED, S.HANDLING, S.REVIEW]
FINAL_STATES = [S.CLOSED, S.WITHDRAWN, S.REJECTED, S.MERGED]


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")


class Channel(models.TextChoices):
    WEB = "web", _("网站")
    API = "api", _("接口（移动端、小程序）")
    HOTLINE = "hotline", _("热线代填")


class RatingLevel(models.IntegerChoices):
    VERY_SATISFIED = 5, _("非常满意")
    SATISFIED = 4, _("满意")
    BASICALLY_SATISFIED = 3, _("基本满意")
    DISSATISFIED = 2, _("不满意")
    VERY_DISSATISFIED = 1, _("非常不满意")


# 不满意 and 非常不满意 are a bad review (差评) and re-open the appeal.
BAD_RATING_MAX = RatingLevel.DISSATISFIED
