"""Early warning: each detector on planted problems and noise, dedupe across runs, acknowledgement."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts import services
from alerts.detection import detect_clusters, detect_repeats, detect_sensitive, detect_surges
from alerts.evaluation import cluster_metrics, labelled_set
from alerts.models import Alert, AlertKind, AlertState
from notifications.models import OutboxEvent
from tests import factories


def _file(region, *, title, description, category="employment", credit_code=None, days_ago=0.0, name=None):
    submitted = factories.submit(
        region=region,
        title=title,
        description=description,
        category=factories.category(category),
        credit_code=credit_code or factories.credit_code(),
        enterprise_name=name or f"测试企业{random.randint(1, 10**9)}有限公司",
    )
    appeal = submitted.appeal
    if days_ago:
        type(appeal).objects.filter(pk=appeal.pk).update(submitted_at=timezone.now() - timedelta(days=days_ago))
    return appeal


CLUSTER_TEXTS = [(item.title, item.text) for item in labelled_set(seed=5) if item.label == "power_cut"][:4]
NOISE = [(item.title, item.text) for item in labelled_set(seed=5) if not item.label]


def test_clusters_on_the_labelled_set_are_precise(hrss):
    """Five planted problems, five businesses each, and 25 one-off appeals, all in one city and category."""
    items = labelled_set(seed=11)
    by_id = {}
    for item in items:
        appeal = _file(hrss.region, title=item.title, description=item.text, category="utilities")
        by_id[appeal.pk] = item.label
    findings = detect_clusters(timezone.now() + timedelta(seconds=1))
    score = cluster_metrics(
        [[by_id[pk] for pk in finding.appeal_ids] for finding in findings], labels=[i.label for i in items]
    )
    assert score.precision >= 0.8, score
    assert score.recall >= 0.8, score


def test_noise_alone_raises_no_cluster(hrss):
    for title, text in NOISE:
        _file(hrss.region, title=title, description=text, category="utilities")
    assert detect_clusters(timezone.now() + timedelta(seconds=1)) == []


def _background(region) -> None:
    """One-off appeals of other businesses: a realistic window, so shared words weigh what they would."""
    for title, text in NOISE:
        _file(region, title=title, description=text, category="utilities")


def test_one_business_filing_many_times_is_a_repeat_not_a_cluster(hrss):
    _background(hrss.region)
    code = factories.credit_code()
    appeals = [
        _file(
            hrss.region, title=t, description=d, credit_code=code, name="佛山市南庄陶瓷有限公司", category="utilities"
        )
        for t, d in CLUSTER_TEXTS[:3]
    ]
    now = timezone.now() + timedelta(seconds=1)
    assert detect_clusters(now) == []
    [repeat] = detect_repeats(now)
    assert set(repeat.appeal_ids) == {a.pk for a in appeals}


def test_surge_against_quiet_previous_weeks(hrss):
    for week in range(1, 9):
        for _ in range(2):
            _file(hrss.region, title="招工", description="招工难", days_ago=7 * week + 1)
    current = [_file(hrss.region, title="招工", description=f"招工难{i}") for i in range(14)]
    [surge] = detect_surges(timezone.now() + timedelta(seconds=1))
    assert surge.detail["count"] == 14
    assert set(surge.appeal_ids) == {a.pk for a in current}


def test_no_surge_when_this_week_is_ordinary(hrss):
    for week in range(0, 9):
        for _ in range(3):
            _file(hrss.region, title="招工", description="招工难", days_ago=7 * week + 1)
    assert detect_surges(timezone.now() + timedelta(seconds=1)) == []


def test_sensitive_words_from_the_default_list(hrss):
    wages = _file(hrss.region, title="工人讨薪", description="老板拖欠工资三个月，三十多名工人准备集体上访。")
    _file(hrss.region, title="咨询社保", description="想了解社保补贴政策。")
    [finding] = detect_sensitive(timezone.now() + timedelta(seconds=1))
    assert finding.appeal_ids == [wages.pk]
    assert {"拖欠工资", "集体上访", "讨薪"} <= set(finding.detail["terms"])
    assert {"wages", "unrest"} <= set(finding.detail["topics"])


def test_alerts_are_raised_once_grow_silently_and_notify(hrss, finance):
    region = hrss.region
    _background(region)
    for t, d in CLUSTER_TEXTS[:3]:
        _file(region, title=t, description=d, category="utilities")
    first = services.alerts_detect(now=timezone.now() + timedelta(seconds=1), kinds=(AlertKind.CLUSTER,))
    assert first.raised == 1
    alert = Alert.objects.get()
    assert alert.links.count() == 3
    assert OutboxEvent.objects.filter(event_type="alert.raised").count() == 1
    again = services.alerts_detect(now=timezone.now() + timedelta(seconds=1), kinds=(AlertKind.CLUSTER,))
    assert (again.raised, again.grown, again.unchanged) == (0, 0, 1)
    t, d = CLUSTER_TEXTS[3]
    _file(region, title=t, description=d, category="utilities")
    grown = services.alerts_detect(now=timezone.now() + timedelta(seconds=1), kinds=(AlertKind.CLUSTER,))
    assert grown.grown == 1
    assert Alert.objects.get().links.count() == 4
    assert OutboxEvent.objects.filter(event_type="alert.raised").count() == 1


def test_sensitive_alert_reaches_supervisors_and_dispatchers(hrss, dispatcher):
    from notifications import recipients

    supervisor = factories.staff_user("supervisor")
    _file(hrss.region, title="车间起火", description="昨晚车间起火，消防通道被堵。")
    services.alerts_detect(now=timezone.now() + timedelta(seconds=1), kinds=(AlertKind.SENSITIVE,))
    event = OutboxEvent.objects.get(event_type="alert.sensitive")
    assert {r.user_id for r in recipients.resolve(event)} >= {supervisor.pk, dispatcher.pk}


def test_acknowledge_needs_a_note_and_a_supervisor(hrss, officer):
    supervisor = factories.staff_user("supervisor")
    _file(hrss.region, title="车间起火", description="昨晚车间起火。")
    services.alerts_detect(now=timezone.now() + timedelta(seconds=1), kinds=(AlertKind.SENSITIVE,))
    alert = Alert.objects.get()
    with pytest.raises(services.AlertError):
        services.alert_acknowledge(user=officer, alert_id=alert.pk, note="看过了")
    with pytest.raises(services.AlertError):
        services.alert_acknowledge(user=supervisor, alert_id=alert.pk, note=" ")
    services.alert_acknowledge(user=supervisor, alert_id=alert.pk, note="已通知应急管理局核查。")
    alert.refresh_from_db()
    assert alert.state == AlertState.ACKNOWLEDGED and alert.acknowledged_by == supervisor
    with pytest.raises(services.AlertError):
        services.alert_acknowledge(user=supervisor, alert_id=alert.pk, note="again")


def test_board_lists_alerts_with_their_appeals(client, hrss, officer):
    supervisor = factories.staff_user("supervisor")
    appeal = _file(hrss.region, title="车间起火", description="昨晚车间起火。")
    services.alerts_detect(now=timezone.now() + timedelta(seconds=1), kinds=(AlertKind.SENSITIVE,))
    client.force_login(officer)
    assert client.get(reverse("alerts:board")).status_code == 403
    client.force_login(supervisor)
    page = client.get(reverse("alerts:board")).content.decode()
    assert appeal.tracking_number in page and "起火" in page
    alert = Alert.objects.get()
    response = client.post(reverse("alerts:acknowledge", args=[alert.pk]), {"note": "已转应急管理局"})
    assert response.status_code == 302
    assert Alert.objects.get().state == AlertState.ACKNOWLEDGED


def test_weekly_report_lists_the_periods_alerts_for_policymakers(hrss, tmp_path):
    """The workbook's policy sheet names each warning of the period and the appeals behind it."""
    from openpyxl import load_workbook

    from analytics.report.build import build_workbook
    from analytics.selectors import Filters

    appeal = _file(hrss.region, title="车间起火", description="昨晚车间起火，消防通道被堵。")
    services.alerts_detect(now=timezone.now() + timedelta(seconds=1), kinds=(AlertKind.SENSITIVE,))
    today = timezone.localdate()
    for language, sheet_name, headline in (
        ("zh-hans", "政策层面待解决的问题", "诉求提及敏感词：起火"),
        ("en", "Policy-level problems", "Appeal mentions sensitive words: 起火"),
    ):
        out = tmp_path / f"report-{language}.xlsx"
        build_workbook(filters=Filters(start=today - timedelta(days=6), end=today), language=language, out=str(out))
        rows = list(load_workbook(out, read_only=True)[sheet_name].iter_rows(values_only=True))
        assert rows[1][1] == headline
        assert appeal.tracking_number in rows[1][5]
