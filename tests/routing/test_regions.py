"""The whole province as default data; regions from codes, names and text; unknown values triaged."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from appeals.api.models import ApiClient
from appeals.models import Appeal, AppealState
from routing.decisions import decide
from routing.models import Bureau, BureauType, Region
from routing.regions import detect_region, grouped_region_choices, province_region, resolve_region
from routing.taxonomy import load_regions, read_regions
from tests import factories

pytestmark = pytest.mark.django_db

HIRING = ("春节后招不到普工", "工厂年后只回来一半工人，急需招聘普工和技工，希望人社部门帮忙对接劳务输出地和招聘会。")


@pytest.fixture
def province():
    factories.bureau_type("hrss")  # the taxonomy (bureau types, categories, rules)
    load_regions()
    return Region.objects.get(level=Region.Level.PROVINCE)


def run(region, *, category="employment", text=HIRING, **extra):
    return decide(
        category=factories.category(category),
        region=region,
        title=text[0],
        description=text[1],
        urgency="normal",
        **extra,
    )


def test_the_province_file_has_every_city_and_county_level_division():
    data = read_regions()
    cities = data["cities"]
    assert len(cities) == 21
    districts = [d for c in cities for d in c["districts"]]
    assert len(districts) == 122  # 65 districts, 20 county-level cities, 37 counties (GB/T 2260)
    for city in cities:
        assert city["division_code"].startswith("44") and city["division_code"].endswith("00")
        for district in city["districts"]:
            assert district["division_code"][:4] == city["division_code"][:4]
            assert district["zh"] and district["en"] and district["code"].startswith(city["code"] + "-")
    codes = [c["code"] for c in cities] + [d["code"] for d in districts]
    assert len(set(codes)) == len(codes)
    assert {"440309", "440310", "440311"} <= {d["division_code"] for d in districts}  # newer Shenzhen districts


def test_loading_creates_cities_districts_and_every_citys_bureaus_once(province):
    types = BureauType.objects.count()
    assert Region.objects.filter(level=Region.Level.CITY).count() == 21
    assert Region.objects.filter(level=Region.Level.DISTRICT).count() == 122
    assert Bureau.objects.count() == 21 * types
    assert Bureau.objects.filter(bureau_type__code="dispatch").count() == 21
    shunde = Region.objects.get(division_code="440606")
    assert shunde.parent.code == "foshan" and shunde.name == "顺德区" and shunde.name_en == "Shunde District"
    assert Bureau.objects.get(region__code="dongguan", bureau_type__code="hrss").name == "东莞市人力资源和社会保障局"
    edited = Region.objects.get(code="zhuhai")
    edited.name_en = "Zhuhai (edited)"
    edited.save()
    load_regions()
    assert Region.objects.count() == 1 + 21 + 122 and Bureau.objects.count() == 21 * types
    assert Region.objects.get(code="zhuhai").name_en == "Zhuhai (edited)"


def test_every_region_of_the_province_routes_out_of_the_box(province):
    for region in Region.objects.exclude(level=Region.Level.PROVINCE).select_related("parent"):
        decision = run(region)
        assert decision.bureau is not None, region.code
        assert decision.bureau.region == region.city and decision.bureau.bureau_type.code == "hrss"


def test_regions_are_found_by_code_division_code_and_name(province):
    shunde = Region.objects.get(code="foshan-shunde")
    for value in ("foshan-shunde", "440606", "顺德区", "Shunde District", " 440606 "):
        assert resolve_region(value) == shunde
    assert resolve_region("东莞市").code == "dongguan"
    assert resolve_region("nowhere") is None and resolve_region("") is None


def test_the_region_is_detected_in_the_company_name_or_text(province):
    mention = detect_region(enterprise_name="东莞市长安镇宏达五金厂")
    assert mention.region.code == "dongguan" and mention.source == "company"
    mention = detect_region(title="顺德区的工厂招工难", description="我们在佛山市顺德区。")
    assert mention.region.code == "foshan-shunde" and mention.source == "text"
    assert detect_region(description="从深圳市进货，运到广州市") is None  # two cities: no guess
    assert detect_region(description="白云下面有光明") is None  # short district names are everyday words


def test_an_unknown_region_is_routed_by_the_company_name_or_triaged_with_a_reason(province):
    found = run(province_region(), enterprise_name="东莞市长安镇宏达五金厂", region_input="长安")
    assert found.bureau.name == "东莞市人力资源和社会保障局"
    assert found.explanation["region_basis"] == "company" and found.explanation["region_input"] == "长安"
    assert found.routed_region.code == "dongguan"
    unknown = run(province_region(), region_input="火星")
    assert unknown.goes_to_triage and unknown.explanation["reason"] == "region_unknown"
    assert unknown.explanation["classifier"]["category"] == "employment"


def test_an_inactive_region_is_triaged(province):
    zhuhai = Region.objects.get(code="zhuhai")
    zhuhai.is_active = False
    zhuhai.save()
    decision = run(zhuhai)
    assert decision.goes_to_triage and decision.explanation["reason"] == "region_inactive"
    assert decision.confidence is not None


def test_a_contradicting_company_name_is_flagged_not_overridden(province):
    foshan = Region.objects.get(code="foshan")
    decision = run(foshan, enterprise_name="东莞市长安镇宏达五金厂")
    assert decision.goes_to_triage and decision.explanation["reason"] == "region_conflict"
    assert decision.explanation["region_detected"]["region"] == "dongguan"
    assert decision.routed_region == foshan
    same_city = run(foshan, enterprise_name="佛山市顺德区宏达五金厂")
    assert same_city.bureau.name == "佛山市人力资源和社会保障局" and "region_conflict" not in same_city.explanation


def test_an_unknown_or_inactive_category_is_classified_and_triaged(province):
    foshan = Region.objects.get(code="foshan")
    decision = run(foshan, category="other", category_input="hiring")
    assert decision.goes_to_triage and decision.explanation["reason"] == "category_unknown"
    assert decision.explanation["classifier"]["category"] == "employment"
    employment = factories.category("employment")
    employment.is_active = False
    employment.save()
    assert run(foshan).explanation["reason"] == "category_inactive"


def test_route_preview_answers_every_line(province, tmp_path):
    lines = [
        {"id": 1, "title": HIRING[0], "description": HIRING[1], "region": "东莞市"},
        {"id": 2, "title": HIRING[0], "description": HIRING[1], "region": "火星市", "company": "惠州市某厂"},
        {"id": 3, "title": HIRING[0], "description": HIRING[1], "region": "nowhere"},
        {"id": 4, "title": HIRING[0], "description": HIRING[1], "region": "440606", "category": "no-such"},
        {"id": 5, "description": HIRING[1]},
        "急急急，工人都走了招不到人",
    ]
    path = tmp_path / "appeals.jsonl"
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\nnot json\n", "utf-8")
    out = StringIO()
    call_command("route_preview", str(path), stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(rows) == 7
    for row in rows[:6]:
        assert row["category"] and row["confidence"] is not None and row["reason"], row
    assert rows[0]["bureau"] == "东莞市人力资源和社会保障局"
    assert rows[1]["region"] == "huizhou" and rows[1]["region_basis"] == "company"
    assert rows[2]["reason"] == "region_unknown" and rows[2]["region_input"] == "nowhere"
    assert rows[3]["reason"] == "category_unknown" and rows[3]["chosen_category"] == "no-such"
    assert rows[4]["reason"] == "region_unknown"
    assert rows[6] == {"id": None, "line": 7, "error": "not valid JSON"}


def test_the_api_accepts_an_unknown_region_and_the_appeal_is_triaged(province):
    _client, key = ApiClient.create_with_key(name="热线", channel=ApiClient.Channel.API)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
    data = {
        "enterprise_name": "某某贸易商行",
        "credit_code": factories.credit_code(),
        "region": "火星",
        "industry": "F",
        "enterprise_size": "micro",
        "contact_name": "陈工",
        "contact_phone": "13900139000",
        "category": "employment",
        "title": HIRING[0],
        "description": HIRING[1],
    }
    response = api.post("/api/appeals/", data, format="json")
    assert response.status_code == 201, response.content
    appeal = Appeal.objects.get()
    assert appeal.state == AppealState.TRIAGE and appeal.region.level == Region.Level.PROVINCE
    assert appeal.routing_explanation["reason"] == "region_unknown"
    by_division_code = api.post("/api/appeals/", {**data, "region": "440606", "credit_code": factories.credit_code()})
    assert by_division_code.status_code == 201
    assert Appeal.objects.latest("id").region.code == "foshan-shunde"
    regions = api.get("/api/regions/").json()
    shunde = next(r for r in regions if r["code"] == "foshan-shunde")
    assert shunde == {
        "code": "foshan-shunde",
        "name": "顺德区",
        "level": "district",
        "parent": "foshan",
        "division_code": "440606",
    }
    assert not any(r["level"] == "province" for r in regions)
    foshan_at = next(i for i, r in enumerate(regions) if r["code"] == "foshan")
    assert regions[foshan_at + 1]["parent"] == "foshan"  # a city, then its districts


def test_the_form_offers_one_option_group_per_city(province, client):
    groups = grouped_region_choices()
    assert len(groups) == 21
    _label, options = next(g for g in groups if g[0] == "佛山市")
    assert options[0][1] == "佛山市（全市）" and [o[1] for o in options[1:]][:2] == ["禅城区", "南海区"]
    html = client.get("/").content.decode()
    assert '<optgroup label="佛山市">' in html and "顺德区</option>" in html


def test_option_groups_follow_the_language_and_every_routing_change(province):
    """Built once per routing table and language, rebuilt when a region changes."""
    from django.utils import translation

    first = grouped_region_choices()
    assert grouped_region_choices() is first  # the same table and language: not rebuilt
    with translation.override("en"):
        english = grouped_region_choices()
    assert english != first and any(label.startswith("Foshan") for label, _options in english)
    shunde = Region.objects.get(code="foshan-shunde")
    shunde.is_active = False
    shunde.save()  # announces a new routing table
    options = dict(grouped_region_choices())["佛山市"]
    assert "顺德区" not in [name for _pk, name in options]


def test_every_triage_reason_has_words_for_the_dispatcher():
    from django.utils import translation

    from routing.decisions import TRIAGE_REASONS

    for code in ("region_unknown", "region_inactive", "region_conflict", "category_unknown", "category_inactive"):
        assert str(TRIAGE_REASONS[code])
        with translation.override("en"):
            assert str(TRIAGE_REASONS[code]).isascii(), code


def test_the_form_shares_frozen_choices_and_rebuilds_them_on_change(province):
    """Every form instance shares one set of normalised region and industry choices per table and
    language (not copied per form); a region change or another language gives new ones."""
    from django.utils import translation

    from appeals.portal.forms import AppealForm

    first, second = AppealForm(), AppealForm()
    assert first.fields["region"].choices is second.fields["region"].choices
    assert first.fields["appeal_type"].choices is AppealForm.base_fields["appeal_type"].choices
    assert list(first.fields["industry"].choices)[1][0] == "A"
    with translation.override("en"):
        english = AppealForm()
        assert english.fields["region"].choices is not first.fields["region"].choices
        assert "Foshan" in str(english["region"])
        assert "Agriculture" in str(english["industry"]) or "agriculture" in str(english["industry"]).lower()
    shunde = Region.objects.get(code="foshan-shunde")
    assert "顺德区" in str(AppealForm()["region"])
    shunde.is_active = False
    shunde.save()  # announces a new routing table
    after = AppealForm()
    assert after.fields["region"].choices is not first.fields["region"].choices
    assert "顺德区" not in str(after["region"])
    # A submitted id is still checked against the current table.
    assert not AppealForm({"region": str(shunde.pk)}).is_valid()
