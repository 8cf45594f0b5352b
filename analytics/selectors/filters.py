"""The dashboard's and report's filters: the period, the filters from the URL and the scope."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cached_property

from django.db.models import Q

from routing.models import Region


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    region_id: int | None = None
    industry: str = ""
    size: str = ""
    channel: str = ""
    bureau_id: int | None = None  # scope: a bureau lead sees only their bureau
    # Applies to the volume figures (rankings, heatmap, rising, breakdown by type); scorecards
    # are rolled up per bureau and day without it.
    appeal_type: str = ""

    @property
    def length(self) -> int:
        return (self.end - self.start).days + 1

    def shifted(self, periods: int) -> Filters:
        """The same filters ``periods`` whole periods earlier (negative: earlier)."""
        delta = timedelta(days=self.length * periods)
        return replace(self, start=self.start + delta, end=self.end + delta)

    @cached_property
    def region_ids(self) -> list[int] | None:
        """The region and, for a city, its districts."""
        if self.region_id is None:
            return None
        return [self.region_id, *Region.objects.filter(parent_id=self.region_id).values_list("pk", flat=True)]

    def days_q(self, *, start: date | None = None, end: date | None = None) -> Q:
        """The period (or ``start``–``end``) as a condition on a rollup's ``day``."""
        return Q(day__gte=start or self.start, day__lte=end or self.end)

    def volume_q(self, *, start: date | None = None, end: date | None = None) -> Q:
        q = self.days_q(start=start, end=end)
        if self.region_ids is not None:
            q &= Q(region_id__in=self.region_ids)
        for name in ("industry", "size", "channel", "appeal_type"):
            if getattr(self, name):
                q &= Q(**{name: getattr(self, name)})
        if self.bureau_id is not None:
            q &= Q(bureau_id=self.bureau_id)
        return q

    @property
    def _by_category_and_region_or_type(self) -> bool:
        """No industry, size, channel or bureau filter: a narrower volume table may answer."""
        return not (self.industry or self.size or self.channel) and self.bureau_id is None

    @property
    def by_category_only(self) -> bool:
        """No filter beyond the period and the appeal type: DailyCategoryVolume can answer."""
        return self._by_category_and_region_or_type and self.region_id is None

    @property
    def by_category_and_region_only(self) -> bool:
        """No filter beyond the period and the region: DailyCategoryRegionVolume can answer."""
        return self._by_category_and_region_or_type and not self.appeal_type

    def category_region_volume_q(self, *, start: date | None = None, end: date | None = None) -> Q:
        """``volume_q`` for DailyCategoryRegionVolume (only when ``by_category_and_region_only``)."""
        q = self.days_q(start=start, end=end)
        return q & Q(region_id__in=self.region_ids) if self.region_ids is not None else q

    def category_volume_q(self, *, start: date | None = None, end: date | None = None) -> Q:
        """``volume_q`` for DailyCategoryVolume (only when ``by_category_only``)."""
        q = self.days_q(start=start, end=end)
        return q & Q(appeal_type=self.appeal_type) if self.appeal_type else q

    def scorecard_q(self, *, scoped: bool = True) -> Q:
        """The region and bureau conditions of a scorecard query (the period is ``scorecard_parts``)."""
        q = Q()
        if self.region_ids is not None:
            q &= Q(region_id__in=self.region_ids)
        if scoped and self.bureau_id is not None:
            q &= Q(bureau_id=self.bureau_id)
        return q

    def scorecard_parts(self) -> tuple[tuple[date, date] | None, list[tuple[date, date]]]:
        """Split the period into whole calendar months and the ragged days around them.

        Returns ``((first month, last month) or None, [(first day, last day), …])``, months given
        by their first days: the months are read from MonthlyScorecard, the days from DailyScorecard.
        """
        first = self.start if self.start.day == 1 else _next_month(self.start)
        after = _next_month(self.end) if (self.end + timedelta(days=1)).day == 1 else self.end.replace(day=1)
        if first >= after:  # no whole month inside the period
            return None, [(self.start, self.end)]
        days = []
        if self.start < first:
            days.append((self.start, first - timedelta(days=1)))
        if after <= self.end:
            days.append((after, self.end))
        last_month = (after - timedelta(days=1)).replace(day=1)
        return (first, last_month), days


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
