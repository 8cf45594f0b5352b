"""One contract for both search backends: the database always, Elasticsearch when ELASTICSEARCH_URL is set."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.core.management import call_command

from appeals import search
from appeals.models import Appeal
from appeals.selectors import appeal_queryset_for_user
from tests import factories

ES_URL = settings.ELASTICSEARCH_URL


@pytest.fixture(
    params=[
        "database",
        pytest.param(
            "elasticsearch",
            marks=[
                pytest.mark.elasticsearch,
                pytest.mark.skipif(
                    not ES_URL, reason="Elasticsearch contract tests need ELASTICSEARCH_URL (no ES server here)."
                ),
            ],
        ),
    ]
)
def backend(request, db):
    if request.param == "database":
        yield search.DatabaseSearch()
        return
    # A fresh index per test (lower-case letters and digits only, as Elasticsearch requires).
    es = search.ElasticsearchSearch(ES_URL, index_prefix=f"huying-test-{uuid.uuid4().hex[:12]}")
    yield es
    es.document._index.delete(using=es.alias, ignore_unavailable=True)


@pytest.fixture
def corpus(hrss, finance, city, backend):
    appeals = {
        "recruit": factories.submit(region=city, title="招工困难", description="春节后工人返岗率低，希望协助招聘。"),
        "loan": factories.submit(
            region=city,
            category=factories.category("financing"),
            title="贷款利率过高",
            description="小微企业贷款难，希望贴息。",
        ),
        "training": factories.submit(region=city, title="技能培训补贴", description="员工技能培训补贴如何申请招工"),
    }
    appeals = {key: value.appeal for key, value in appeals.items()}
    if backend.name != "database":
        backend.rebuild()
    return appeals


def ids(qs) -> set[int]:
    return set(qs.values_list("pk", flat=True))


def test_finds_by_title_and_description(backend, corpus):
    found = ids(backend.filter_queryset(Appeal.objects.all(), "招工"))
    assert found == {corpus["recruit"].pk, corpus["training"].pk}


def test_all_terms_must_match(backend, corpus):
    assert ids(backend.filter_queryset(Appeal.objects.all(), "招工　补贴")) == {corpus["training"].pk}
    assert ids(backend.filter_queryset(Appeal.objects.all(), "贷款 招工")) == set()


def test_tracking_number_matches_exactly(backend, corpus):
    number = corpus["loan"].tracking_number
    assert ids(backend.filter_queryset(Appeal.objects.all(), number)) == {corpus["loan"].pk}


def test_empty_query_leaves_queryset_alone(backend, corpus):
    assert ids(backend.filter_queryset(Appeal.objects.all(), "   ")) == ids(Appeal.objects.all())
    assert backend.search_ids("") == []


def test_search_never_widens_permission_scope(backend, corpus, officer):
    visible = backend.filter_queryset(appeal_queryset_for_user(user=officer), "贷款")
    assert ids(visible) == set()  # the loan appeal belongs to the finance bureau
    assert corpus["loan"].pk in backend.search_ids("贷款")


def test_index_follows_changes(backend, corpus):
    appeal = corpus["recruit"]
    Appeal.objects.filter(pk=appeal.pk).update(title="厂房租金减免")
    appeal.refresh_from_db()
    backend.index_appeal(appeal)
    assert appeal.pk in backend.search_ids("租金")


def test_backend_choice_follows_settings(settings):
    settings.ELASTICSEARCH_URL = ""
    assert search.get_backend().name == "database"


def test_search_index_command_with_database_backend(db, settings, capsys):
    settings.ELASTICSEARCH_URL = ""
    call_command("search_index", "--rebuild")
    assert "database" in capsys.readouterr().out


def test_index_task_is_queued_after_commit_only_with_elasticsearch(
    settings, hrss, monkeypatch, django_capture_on_commit_callbacks
):
    queued: list[int] = []
    monkeypatch.setattr(search.index_appeal_task, "delay", lambda appeal_id: queued.append(appeal_id))
    settings.ELASTICSEARCH_URL = ""
    with django_capture_on_commit_callbacks(execute=True):
        factories.submit(region=hrss.region)
    assert queued == []
    settings.ELASTICSEARCH_URL = "http://es.invalid:9200"
    with django_capture_on_commit_callbacks(execute=True):
        appeal = factories.submit(region=hrss.region).appeal
    assert queued and set(queued) == {appeal.pk}


def test_elasticsearch_mapping_and_query_shape_without_a_server():
    """What we send to Elasticsearch, checked offline: cjk-analysed text and an AND of the terms."""
    es = search.ElasticsearchSearch("http://127.0.0.1:9", index_prefix="shape")
    mapping = es.document._doc_type.mapping.to_dict()["properties"]
    assert mapping["title"]["analyzer"] == "cjk" and mapping["description"]["analyzer"] == "cjk"
    assert mapping["tracking_number"]["type"] == "keyword"
    body = es.build_search("招工　补贴", limit=50).to_dict()
    musts = body["query"]["bool"]["must"]
    assert len(musts) == 2
    assert musts[0]["bool"]["should"][0]["match_phrase"]["title"]["query"] == "招工"
    assert musts[1]["bool"]["should"][1]["match_phrase"]["description"] == "补贴"
    assert body["size"] == 50 and body["_source"] is False
    assert es.index_name == "shape-appeals"
