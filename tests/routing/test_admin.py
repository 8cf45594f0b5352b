"""The routing admin pages for policies, holiday overrides, classifier versions and examples."""

from __future__ import annotations

from datetime import date

import pytest

from routing.models import ClassifierModel, HolidayOverride, TrainingExample
from tests import factories


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["deadlinepolicy", "holidayoverride", "classifiermodel", "trainingexample"])
def test_changelists_render(admin_client, model):
    HolidayOverride.objects.create(date=date(2027, 1, 1), is_working_day=False, note="元旦")
    TrainingExample.objects.create(title="招工难", description="缺普工", category=factories.category("employment"))
    response = admin_client.get(f"/admin/routing/{model}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert {"holidayoverride": "元旦", "trainingexample": "招工难", "deadlinepolicy": "工作日"}.get(
        model, "nb-"
    ) in body


@pytest.mark.django_db
def test_activating_an_older_classifier_version(admin_client):
    seed = ClassifierModel.objects.get(is_active=True)
    other = ClassifierModel.objects.create(
        version="nb-char-test", algorithm="x", features="char", parameters=seed.parameters, metrics={}
    )
    response = admin_client.post(
        "/admin/routing/classifiermodel/", {"action": "activate", "_selected_action": [other.pk]}, follow=True
    )
    assert response.status_code == 200
    assert list(ClassifierModel.objects.filter(is_active=True)) == [other]
