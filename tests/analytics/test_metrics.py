"""Metric formulas against hand-computed fixtures; ranking, rising and hot topics on crafted rollups."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import date, datetime, timedelta

import pytest

from analytics import histograms, metrics, rollups, selectors, terms
from analytics.models import DailyCategoryRegionVolume, DailyCategoryVolume, DailyTerm, DailyVolume
from analytics.selectors import Filters
from appeals.models import Rating
from tests import factories


def rating(level, resolved=None, *, default=False, followup=False, contest=""):
    return {"level": level, "resolved": resolved, "is_default": default, "is_followup": followup, "contest": contest}


def test_rating_counts_by_hand(settings):
    settings.HUYING = {**settings.HUYING, "COUNT_DEFAULT_RATINGS": True}
    ratings = [
        rating(5, True),  # satisfied, resolved
        rating(4, False),  # satisfied, not resolved
        rating(3, None),  # basic, not resolved (appellant did not say)
        rating(3, None, default=True),  # default: basic, counted as resolved
        rating(1, False),  # bad
        rating(1, False, contest=Rating.Contest.UPHELD),  # excluded: contest upheld
        rating(5, True, followup=True),  # excluded: a follow-up (追评) is not a second rating
    ]
    assert rollups.rating_counts(ratings) == {"ratings": 5, "resolved": 2, "satisfied": 2, "basic": 2}
    settings.HUYING = {**settings.HUYING, "COUNT_DEFAULT_RATINGS": False}
    assert rollups.rating_counts(ratings) == {"ratings": 4, "resolved": 1, "satisfied": 2, "basic": 1}


def test_scorecard_rates_and_composite_by_hand(settings):
    settings.HUYING = {**settings.HUYING, "BASIC_SATISFIED_WEIGHT": 0.5, "SCORE_WEIGHTS": (0.30, 0.35, 0.35)}
    card = metrics.Scorecard()
    card.add({"dispatched": 10, "responded": 8, "ratings": 4, "resolved": 3, "satisfied": 2, "basic": 1})
    card.add({"dispatched": 10, "responded": 6, "sign_minutes": {"30": 2, "90": 1}, "reply_minutes": {"600": 1}})
    assert card.response_rate == pytest.approx(14 / 20)
    assert card.resolution_rate == pytest.approx(3 / 4)
    assert card.satisfaction_rate == pytest.approx((2 + 0.5 * 1) / 4)
    # 100 × (0.30 × 0.7 + 0.35 × 0.75 + 0.35 × 0.625) = 69.125 → 69.1
    assert card.composite == 69.1
    assert card.sign_median_hours == 0.5 and card.sign_p90_hours == 1.5
    assert card.reply_median_hours == 10.0
    settings.HUYING = {**settings.HUYING, "SCORE_WEIGHTS": (0.5, 0.25, 0.25), "BASIC_SATISFIED_WEIGHT": 1.0}
    assert card.satisfaction_rate == pytest.approx(3 / 4)
    assert card.composite == round(100 * (0.5 * 0.7 + 0.25 * 0.75 + 0.25 * 0.75), 1)


def test_composite_without_ratings_uses_the_rates_it_has():
    assert metrics.composite_score(0.8, None, None) == 80.0
    assert metrics.composite_score(None, None, None) is None
    assert metrics.Scorecard().response_rate is None


def test_nearest_rank_percentile():
    histogram = Counter({1: 1, 2: 1, 3: 1, 4: 1, 100: 1})
    assert metrics.percentile(histogram, 0.5) == 3
    assert metrics.percentile(histogram, 0.9) == 100
    assert metrics.percentile(Counter({7: 10}), 0.9) == 7
    assert metrics.percentile(Counter(), 0.5) is None


def test_poisson_and_negative_binomial_tails():
    # P(X >= 3 | λ = 1) = 1 − e⁻¹(1 + 1 + 1/2)
    assert metrics.poisson_sf(3, 1.0) == pytest.approx(1 - math.exp(-1) * 2.5)
    assert metrics.poisson_sf(0, 5.0) == 1.0
    # Over-dispersion makes the same count less surprising.
    assert metrics.negbin_sf(20, 8.0, 30.0) > metrics.poisson_sf(20, 8.0)
    # NB with r = 1 is geometric: P(X >= k) = (1 − p)^k with p = r / (r + mean).
    assert metrics.negbin_sf(4, 2.0, 6.0) == pytest.approx((2 / 3) ** 4)


def test_rising_test_needs_significance_size_and_ratio():
    assert metrics.rising_test(30, [10, 11, 9, 10, 12, 8, 10, 10]).flagged
    assert not metrics.rising_test(12, [10, 11, 9, 10, 12, 8, 10, 10]).flagged  # within noise
    assert not metrics.rising_test(6, [0, 0, 0, 0, 0, 0, 0, 0]).flagged  # too few to matter
    assert metrics.rising_test(12, [0, 0, 0, 0, 0, 0, 0, 0]).flagged
    # Bonferroni: a borderline cell is no longer flagged when many cells were tested.
    borderline = metrics.rising_test(21, [10] * 8)
    assert borderline.flagged and not metrics.rising_test(21, [10] * 8, tests=500).flagged
    # A volatile baseline is judged with the negative binomial.
    assert metrics.rising_test(30, [2, 25, 3, 20, 1, 30, 4, 22]).model == "negbin"


def test_log_odds_prefers_terms_growing_against_the_baseline():
    current = Counter({"贷款": 40, "抵押": 30, "银行": 20})
    baseline = Counter({"贷款": 40, "抵押": 2, "银行": 40})
    ranked = [term for term, *_ in metrics.log_odds_terms(current, baseline, top=3)]
    assert ranked[0] == "抵押" and ranked[-1] == "银行"
    assert metrics.log_odds_terms({}, {}) == []


def test_segmentation_drops_stop_words():
    words = terms.segment("我们公司希望协助解决银行贷款审批慢的问题，抵押物不足。")
    assert words == ["银行贷款", "审批", "抵押物", "不足"]
    assert not {"我们", "公司", "希望", "协助", "解决", "问题", "的"} & set(words)
    assert terms.document_terms("贷款", "贷款 贷款 银行") == ["贷款", "银行"]


@pytest.fixture
def crafted(db, city):
    """Hand-made rollup rows: employment steady at 10 a week, financing jumps to 40 in the last week."""
    employment, financing = factories.category("employment"), factories.category("financing")
    other = factories.RegionFactory(code="zhongshan", name="中山市")
    monday = date(2026, 11, 16)
    rows = []
    for week in range(9):
        day = monday - timedelta(weeks=8 - week)
        rows.append(DailyVolume(day=day, category_id=employment.pk, region_id=city.pk, industry="C", size="small",
                                channel="web", count=10))  # fmt: skip
        fin = 40 if week == 8 else 5
        rows.append(DailyVolume(day=day, category_id=financing.pk, region_id=city.pk, industry="C", size="small",
                                channel="web", count=fin))  # fmt: skip
        rows.append(DailyVolume(day=day, category_id=financing.pk, region_id=other.pk, industry="F", size="micro",
                                channel="api", count=2))  # fmt: skip
        DailyTerm.objects.create(day=day, category_id=financing.pk, term="贷款", count=fin)
        DailyTerm.objects.create(day=day, category_id=financing.pk, term="抵押", count=30 if week == 8 else 1)
    DailyVolume.objects.bulk_create(rows)
    # The same counts in the narrower tables, as the rollup writes them.
    by_category: Counter = Counter()
    by_category_region: Counter = Counter()
    for row in rows:
        by_category[(row.day, row.category_id, row.appeal_type)] += row.count
        by_category_region[(row.day, row.category_id, row.region_id)] += row.count
    DailyCategoryVolume.objects.bulk_create(
        DailyCategoryVolume(day=day, category_id=cid, appeal_type=kind, count=n)
        for (day, cid, kind), n in by_category.items()
    )
    DailyCategoryRegionVolume.objects.bulk_create(
        DailyCategoryRegionVolume(day=day, category_id=cid, region_id=rid, count=n)
        for (day, cid, rid), n in by_category_region.items()
    )
    return {"employment": employment, "financing": financing, "city": city, "other": other, "week": monday}


def test_ranking_trend_and_change(crafted):
    week = Filters(start=crafted["week"], end=crafted["week"] + timedelta(days=6))
    ranking = selectors.category_ranking(week)
    assert [(r.category_id, r.count, r.previous, r.change) for r in ranking] == [
        (crafted["financing"].pk, 42, 7, 35),
        (crafted["employment"].pk, 10, 10, 0),
    ]
    assert ranking[0].share == pytest.approx(42 / 52) and ranking[0].change_pct == pytest.approx(5.0)
    assert ranking[0].trend == [7] * 7 + [42] and ranking[1].trend == [10] * 8
    # Filters: industry F / channel api / a region only see the financing cells of 中山.
    narrowed = selectors.category_ranking(Filters(start=week.start, end=week.end, channel="api"))
    assert [(r.category_id, r.count) for r in narrowed] == [(crafted["financing"].pk, 2)]
    assert selectors.category_counts(Filters(start=week.start, end=week.end, region_id=crafted["other"].pk)) == {
        crafted["financing"].pk: 2
    }


def test_rising_flags_the_jump_only(crafted):
    week = Filters(start=crafted["week"], end=crafted["week"] + timedelta(days=6))
    flagged = {(r.category_id, r.region_id) for r in selectors.rising(week)}
    assert flagged == {(crafted["financing"].pk, None), (crafted["financing"].pk, crafted["city"].pk)}


def test_hot_topics_surface_the_growing_term(crafted):
    week = Filters(start=crafted["week"], end=crafted["week"] + timedelta(days=6))
    topics = {t.category_id: t for t in selectors.hot_topics(week)}
    assert topics[crafted["financing"].pk].terms[0][0] == "抵押"


def test_local_day_uses_shanghai_time():
    from zoneinfo import ZoneInfo

    late_utc = datetime(2026, 11, 1, 17, 0, tzinfo=ZoneInfo("UTC"))  # 01:00 on 2 Nov in Shanghai
    assert rollups.local_day(late_utc) == date(2026, 11, 2)


def test_stored_histograms_give_the_exact_percentile_of_their_union():
    rng = random.Random(5)
    for _case in range(200):
        parts = [
            Counter(int(rng.lognormvariate(5, 1.2)) for _ in range(rng.randint(0, 40)))
            for _part in range(rng.randint(1, 12))
        ]
        union = sum(parts, Counter())
        stored = [histograms.pack(part) for part in parts]
        assert [histograms.unpack(data) for data in stored] == [dict(part) for part in parts]
        assert histograms.unpack(histograms.merge(stored)) == dict(union)
        cumulative = [histograms.Cumulative(data) for data in stored]
        merged = histograms.Merged(cumulative)
        for q in (0.01, 0.5, 0.9, 1.0):
            assert histograms.percentile(cumulative, q) == metrics.percentile(union, q), (q, parts)
            # Both strategies, whichever percentile() picks for these sizes: the sorted merge and the search.
            assert merged.percentile(q) == metrics.percentile(union, q), (q, parts)
        # Several at once (one merge or one search each) give the same as one at a time.
        qs = (0.5, 0.9, 0.01)
        assert histograms.percentiles(cumulative, qs) == [metrics.percentile(union, q) for q in qs], parts
        card = metrics.Scorecard()
        for data in stored:
            card.add({"reply_minutes": data})
        expected = metrics.percentile(union, 0.9)
        assert card.reply_p90_hours == (None if expected is None else round(expected / 60, 1))
        assert card.hours("reply_minutes", 0.01) == (
            None if not union else round(metrics.percentile(union, 0.01) / 60, 1)
        )
        card.add({"reply_minutes": histograms.pack({10**6: 10**4})})  # adding forgets the computed ones
        assert card.reply_median_hours == round(10**6 / 60, 1)
    # Many one- or two-entry rows (a few weeks of daily cells) take the merge path.
    small = [Counter(int(rng.lognormvariate(5, 1.2)) for _ in range(rng.randint(1, 2))) for _ in range(500)]
    cumulative = [histograms.Cumulative(histograms.pack(part)) for part in small]
    for q in (0.01, 0.5, 0.9, 1.0):
        assert histograms.percentile(cumulative, q) == metrics.percentile(sum(small, Counter()), q)
    assert histograms.Merged([]).percentile(0.5) is None
    assert histograms.percentile([histograms.Cumulative(b"")], 0.5) is None
    assert histograms.pack({}) == b""


def test_tail_probabilities_by_recurrence_match_the_closed_form():
    """The survival functions sum their terms by recurrence; each term equals the lgamma formula."""
    import random

    def poisson_reference(count, mean):
        return max(0.0, 1.0 - sum(math.exp(k * math.log(mean) - mean - math.lgamma(k + 1)) for k in range(count)))

    def negbin_reference(count, mean, variance):
        r = mean * mean / (variance - mean)
        p = r / (r + mean)
        log_p, log_q = math.log(p), math.log1p(-p)
        terms = (math.lgamma(k + r) - math.lgamma(r) - math.lgamma(k + 1) + r * log_p + k * log_q for k in range(count))
        return max(0.0, 1.0 - sum(math.exp(t) for t in terms))

    rng = random.Random(11)
    for _ in range(300):
        mean = rng.uniform(0.5, 400)
        count = rng.randrange(0, int(mean * 3) + 5)
        variance = mean * rng.uniform(1.1, 6)
        assert metrics.poisson_sf(count, mean) == pytest.approx(poisson_reference(count, mean), rel=1e-9, abs=1e-9)
        assert metrics.negbin_sf(count, mean, variance) == pytest.approx(
            negbin_reference(count, mean, variance), rel=1e-9, abs=1e-9
        )


# --- Hot-topic stop words and the minimum-information rule (issue 15) ---------------------------------

REPORTED_FRAGMENTS = ("不到", "出去", "哪个", "按新")


@pytest.mark.parametrize(
    "text",
    [
        "按新规定要求补缴社保，工资发不到工人手里",
        "不知道哪个部门管，货物运不出去",
        "厂房租金按新标准上涨，找不到人，出去办事",
        "申请出口退税一直退不到，请问哪个部门负责，麻烦帮忙",
    ],
)
def test_segmentation_drops_the_reported_fragments(text):
    words = terms.segment(text)
    assert not set(REPORTED_FRAGMENTS) & set(words), words
    assert not {"问题", "企业", "公司", "请问", "帮忙", "运不"} & set(words), words
    assert words, "content words must survive"


def test_segmentation_keeps_the_topic_words():
    assert set(terms.segment("按新规定要求补缴社保，工资发不到工人手里")) >= {"补缴", "社保", "工资", "工人"}
    assert set(terms.segment("申请出口退税一直退不到")) >= {"出口", "退税"}


@pytest.mark.parametrize(
    ("word", "informative"),
    [
        ("不到", False),  # all function characters
        ("出去", False),
        ("哪个", False),
        ("按新", False),
        ("这么", False),
        ("运不", False),  # a phrase cut after its negation
        ("贷", False),  # one character
        ("2026", False),  # numbers
        ("公司", False),  # generic appeal vocabulary from the stop-word file
        ("不足", True),  # one content character is enough
        ("出口", True),
        ("新规", True),
        ("社保", True),
        ("ETC", True),
    ],
)
def test_minimum_information_rule(word, informative):
    assert terms.is_informative(word) is informative


def test_stop_word_file_is_read_with_its_comments_skipped():
    assert {"问题", "企业", "公司", "请问", "帮忙", "不到", "出去", "哪个", "按新"} <= terms.STOP_WORDS
    assert not any(word.startswith("#") for word in terms.STOP_WORDS)


def test_hot_topics_skip_stored_fragments_and_terms_that_are_not_distinctive(crafted):
    """Rows written before a stop word was added are filtered when read; a term no more frequent than
    in its baseline (z <= 0) or found in fewer than three appeals is not a hot topic."""
    week = crafted["week"]
    financing = crafted["financing"]
    for back in range(9):
        day = week - timedelta(weeks=8 - back)
        DailyTerm.objects.create(day=day, category_id=financing.pk, term="不到", count=50)
        DailyTerm.objects.create(day=day, category_id=financing.pk, term="银行", count=20 if back == 8 else 40)
    DailyTerm.objects.create(day=week, category_id=financing.pk, term="罕见词", count=2)
    topics = {t.category_id: t for t in selectors.hot_topics(Filters(start=week, end=week + timedelta(days=6)))}
    shown = [term for term, *_ in topics[financing.pk].terms]
    assert "抵押" in shown
    assert "不到" not in shown and "罕见词" not in shown and "银行" not in shown
    assert all(z > 0 for _term, z, *_ in topics[financing.pk].terms)


def test_dashboard_pauses_the_collector_only_while_computing():
    import gc

    from analytics.collector import collector_paused

    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # nested (another section, another thread): stays paused
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    try:
        with collector_paused():
            raise ValueError
    except ValueError:
        pass
    assert gc.isenabled()
