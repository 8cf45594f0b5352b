"""Reads behind the Open311 endpoints: which appeals a public listing may include, with the
relations the response needs. What is *shown* of each is decided in ``presenters``."""

from __future__ import annotations

from django.db.models import QuerySet

from appeals.api.models import ApiClient
from appeals.models import Appeal
from integrations.open311 import jurisdictions
from routing.models import Region


def public_appeals(*, scope: Region | None = None, filed_by: ApiClient | None = None) -> QuerySet[Appeal]:
    """Appeals a GeoReport listing covers: all channels, optionally one region (with its districts)
    or only those one partner key filed."""
    queryset = Appeal.objects.select_related("category", "bureau", "region").prefetch_related("open311")
    if scope is not None:
        queryset = queryset.filter(region_id__in=jurisdictions.subtree_ids(scope))
    if filed_by is not None:
        queryset = queryset.filter(open311__client=filed_by)
    return queryset


def public_appeal(*, tracking_number: str, scope: Region | None = None) -> Appeal | None:
    """One appeal by its tracking number (the GeoReport ``service_request_id``), or None."""
    return public_appeals(scope=scope).filter(tracking_number=tracking_number).first()


def tracking_number_exists(tracking_number: str) -> bool:
    return Appeal.objects.filter(tracking_number=tracking_number).exists()
