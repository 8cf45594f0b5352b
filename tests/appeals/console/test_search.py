"""One contract for both search backends: the database, and a real OpenSearch-compatible server.

The server is osmem (``osmem-server``, an in-memory OpenSearch-compatible server from PyPI): CI
starts it (``.ci/search-server``) and passes ``SEARCH_TEST_URL``; otherwise the session fixture
starts one on this checkout's test port. Nothing here is skipped.
"""

from __future__ import annotations

import os
import urllib.request
import uuid
from datetime import timedelta

import opensearchpy
import pytest
from django.core.management import call_command
from django.utils import timezone

from appeals import search
from appeals.models import Appeal
from appeals.search_engine import EngineSearch, phone_token, to_document
from appeals.selectors import appeal_queryset_for_user
from tests import factories

# The first port of this project's test range; each xdist worker takes the next one.
OSMEM_BASE_PORT = int(os.environ.get("OSMEM_TEST_PORT", "18550"))
DEAD_URL = "http://127.0.0.1:9"  # the discard port: nothing listens


def _reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def search_server_url():
    url = os.environ.get("SEARCH_TEST_URL", "")
    if url:
        assert _reachable(url), f"SEARCH_TEST_URL={url} does not answer (CI starts it with .ci/search-server)"
        yield url
        return
    from osmem_server import OsmemServer

    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    url = f"http://127.0.0.1:{OSMEM_BASE_PORT + int(worker.removeprefix('gw') or 0)}"
    if _reachable(url):
        yield url
        return
    server = OsmemServer.start(addr=url.removeprefix("http://"), japanese=False)
    yield server.url
    server.close()


@pytest.fixture(autouse=True)
def _server_not_marked_down(monkeypatch):
    monkeypatch.setattr(search, "_server_down_until", 0.0)


def _engine(url: str) -> search.ResilientSearch:
    # A fresh alias per test (lower-case letters and digits, as the servers require).
    return search.ResilientSearch(EngineSearch(url, engine="opensearch", index_prefix=f"t{uuid.uuid4().hex[:12]}"))


@pytest.fixture(params=["database", "opensearch"])
def backend(request, db):
    if request.param == "database":
        yield search.DatabaseSearch()
        return
    engine = _engine(request.getfixturevalue("search_server_url"))
    yield engine
    engine.engine.drop()


def make_corpus(city) -> dict[str, Appeal]:
    appeals = {
        "recruit": factories.submit(
            region=city,
            title="招工困难",
            description="春节后工人返岗率低，希望协助招聘。",
            enterprise_name="佛山市南海区顺成五金有限公司",
            contact_name="王小红",
            contact_phone="+8613912345678",
        ),
        "loan": factories.submit(
            region=city,
            category=factories.category("financing"),
            title="贷款利率过高",
            description="小微企业贷款难，希望贴息。",
        ),
        "training": factories.submit(region=city, title="技能培训补贴", description="员工技能培训补贴如何申请招工"),
    }
    return {key: value.appeal for key, value in appeals.items()}


@pytest.fixture
def corpus(hrss, finance, city, backend):
    appeals = make_corpus(city)
    if backend.name != "database":
        backend.rebuild()
    return appeals


def ids(qs) -> set[int]:
    return set(qs.values_list("pk", flat=True))


def found(backend, query: str) -> set[int]:
    return ids(backend.filter_queryset(Appeal.objects.all(), query))


def test_finds_by_title_and_description(backend, corpus):
    assert found(backend, "招工") == {corpus["recruit"].pk, corpus["training"].pk}


def test_all_terms_must_match(backend, corpus):
    assert found(backend, "招工　补贴") == {corpus["training"].pk}
    assert found(backend, "贷款 招工") == set()


def test_tracking_number_matches_exactly(backend, corpus):
    assert found(backend, corpus["loan"].tracking_number) == {corpus["loan"].pk}


def test_finds_by_company_credit_code_and_contact(backend, corpus):
    recruit = corpus["recruit"]
    assert found(backend, "顺成五金") == {recruit.pk}
    assert found(backend, recruit.enterprise_credit_code.lower()) == {recruit.pk}
    assert found(backend, "王小红") == {recruit.pk}
    # Any way of writing the number finds it; the index itself holds only a keyed digest.
    assert found(backend, "139-1234-5678") == {recruit.pk}
    assert found(backend, "+8613912345678") == {recruit.pk}
    assert found(backend, "1391234") == set()  # no partial-number fishing


def test_finds_by_the_name_filed_with_and_the_current_one(backend, corpus, city):
    recruit = corpus["recruit"]
    factories.submit(region=city, credit_code=recruit.enterprise_credit_code, enterprise_name="顺成智造科技有限公司")
    if backend.name != "database":
        backend.index_appeal(Appeal.objects.get(pk=recruit.pk))
        backend.refresh()
    assert recruit.pk in found(backend, "顺成五金") and recruit.pk in found(backend, "顺成智造")


def test_empty_query_leaves_queryset_alone(backend, corpus):
    assert found(backend, "   ") == ids(Appeal.objects.all())
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
    if backend.name != "database":
        backend.refresh()
    assert appeal.pk in backend.search_ids("租金")


# --- The search server only ---------------------------------------------------------------------


@pytest.fixture
def server(search_server_url, db):
    engine = _engine(search_server_url)
    yield engine
    engine.engine.drop()


@pytest.fixture
def server_corpus(server, hrss, finance, city):
    appeals = make_corpus(city)
    server.rebuild()
    return appeals


def test_rebuild_swaps_the_alias_with_no_gap(server, server_corpus, city):
    client = server.engine.client.raw
    server.rebuild()
    [first] = client.indices.get_alias(name=server.alias)
    factories.submit(region=city, title="厂房租金减免")
    server.rebuild()
    [second] = client.indices.get_alias(name=server.alias)
    assert second != first and not client.indices.exists(index=first)
    assert len(server.search_ids("租金")) == 1 and len(server.search_ids("招工")) == 2


def test_first_rebuild_replaces_an_index_named_like_the_alias(server, hrss, city):
    """Earlier releases wrote to a concrete index called <prefix>-appeals; the first rebuild takes its place."""
    client = server.engine.client.raw
    client.indices.create(index=server.alias, body={"mappings": {"properties": {"title": {"type": "text"}}}})
    appeal = factories.submit(region=city, title="厂房租金减免").appeal
    server.rebuild()
    assert list(client.indices.get_alias(name=server.alias)) != [server.alias]
    assert server.search_ids("租金") == [appeal.pk]


def test_shards_and_replicas_come_from_settings(server, settings, server_corpus):
    settings.SEARCH_SHARDS, settings.SEARCH_REPLICAS = 2, 1
    server.rebuild()
    [index] = server.engine.client.raw.indices.get_alias(name=server.alias)
    values = server.engine.client.raw.indices.get_settings(index=index)[index]["settings"]["index"]
    assert (int(values["number_of_shards"]), int(values["number_of_replicas"])) == (2, 1)


def test_saving_does_not_force_a_refresh(server, server_corpus, monkeypatch):
    calls = []
    original = server.engine.client.raw.index
    monkeypatch.setattr(server.engine.client.raw, "index", lambda **kw: calls.append(kw) or original(**kw))
    server.index_appeal(server_corpus["loan"])
    assert calls and "refresh" not in calls[0]


def test_many_matches_are_listed_up_to_the_cap_and_counted(server, server_corpus, settings):
    settings.SEARCH_MAX_MATCHES = 1
    outcome = server.search(Appeal.objects.all(), "招工")
    listed = ids(outcome.queryset)
    assert outcome.total == 2 and outcome.capped
    assert listed <= {server_corpus["recruit"].pk, server_corpus["training"].pk}
    assert len(listed) == 1 and "共 2 件" in outcome.notice
    settings.SEARCH_MAX_MATCHES = 2500  # paged with search_after past one page of 1,000 as well
    outcome = server.search(Appeal.objects.all(), "招工")
    assert outcome.total == 2 and not outcome.capped and not outcome.notice


def test_catch_up_indexes_what_was_saved_while_the_server_was_away(server, server_corpus, city):
    late = factories.submit(region=city, title="用电增容审批慢").appeal  # never indexed: no task ran
    assert server.search_ids("用电") == []
    assert server.catch_up(since=timezone.now() - timedelta(hours=1)) == 1
    server.refresh()
    assert server.search_ids("用电") == [late.pk]
    assert server.catch_up(since=timezone.now() - timedelta(hours=1)) == 0  # nothing left to do


def test_catch_up_task_and_command_use_the_configured_server(search_server_url, settings, hrss, capsys):
    settings.SEARCH_URL, settings.SEARCH_ENGINE = search_server_url, "opensearch"
    settings.SEARCH_INDEX_PREFIX = f"t{uuid.uuid4().hex[:12]}"
    appeal = factories.submit(region=hrss.region, title="用电增容审批慢").appeal
    backend = search.get_backend()
    try:
        assert search.catch_up_task() == 1
        backend.refresh()
        assert backend.search_ids("用电") == [appeal.pk]
        call_command("search_index", "--rebuild")
        assert "indexed 1 appeals" in capsys.readouterr().out
    finally:
        backend.engine.drop()


# --- A dead server never blocks anyone ------------------------------------------------------------


def test_dead_server_falls_back_to_the_database_with_a_notice(db, hrss, settings):
    appeal = factories.submit(region=hrss.region, title="招工困难").appeal
    dead = search.ResilientSearch(EngineSearch(DEAD_URL, engine="opensearch"))
    outcome = dead.search(Appeal.objects.all(), "招工")
    assert ids(outcome.queryset) == {appeal.pk}
    assert outcome.backend == "database" and "全文检索服务暂时不可用" in outcome.notice
    assert search._server_down_until > 0  # the next searches skip the server for a while
    calls = []
    dead.engine.filter_ids = lambda *args, **kwargs: calls.append(args)  # type: ignore[method-assign]
    assert ids(dead.search(Appeal.objects.all(), "招工").queryset) == {appeal.pk}
    assert dead.search_ids("招工") == [appeal.pk]
    assert calls == []


def test_filing_works_with_a_dead_server_and_a_dead_broker(
    settings, hrss, monkeypatch, django_capture_on_commit_callbacks
):
    settings.SEARCH_URL = DEAD_URL

    def broker_down(appeal_id):
        raise OSError("broker unreachable")

    monkeypatch.setattr(search.index_appeal_task, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        appeal = factories.submit(region=hrss.region).appeal
    assert Appeal.objects.filter(pk=appeal.pk).exists()


def test_indexing_retries_on_the_clients_real_connection_errors(db, hrss):
    import elastic_transport

    assert opensearchpy.ConnectionError in search.index_appeal_task.autoretry_for
    assert elastic_transport.ConnectionError in search.index_appeal_task.autoretry_for
    appeal = factories.submit(region=hrss.region).appeal
    with pytest.raises(search.TRANSIENT_ERRORS) as raised:
        EngineSearch(DEAD_URL, engine="opensearch").index_appeal(appeal)
    assert not isinstance(raised.value, ConnectionError)  # the builtin the task used to name


def test_index_task_is_queued_after_commit_only_with_a_server(
    settings, hrss, monkeypatch, django_capture_on_commit_callbacks
):
    queued: list[int] = []
    monkeypatch.setattr(search.index_appeal_task, "delay", lambda appeal_id: queued.append(appeal_id))
    settings.SEARCH_URL = settings.ELASTICSEARCH_URL = ""
    with django_capture_on_commit_callbacks(execute=True):
        factories.submit(region=hrss.region)
    assert queued == []
    settings.SEARCH_URL = "opensearch://search.invalid:9200"
    with django_capture_on_commit_callbacks(execute=True):
        appeal = factories.submit(region=hrss.region).appeal
    assert queued and set(queued) == {appeal.pk}


# --- Choosing the engine --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "engine_setting", "expected"),
    [
        ("", "opensearch", ("", "")),
        ("opensearch://search:9200", "", ("opensearch", "http://search:9200")),
        ("elasticsearch+https://es.example:9243", "", ("elasticsearch", "https://es.example:9243")),
        ("http://search:9200", "elasticsearch", ("elasticsearch", "http://search:9200")),
        ("http://search:9200", "", ("opensearch", "http://search:9200")),
    ],
)
def test_engine_follows_the_url_scheme_or_the_setting(settings, url, engine_setting, expected):
    settings.SEARCH_URL, settings.ELASTICSEARCH_URL, settings.SEARCH_ENGINE = url, "", engine_setting
    assert search.engine_config() == expected


def test_backend_choice_follows_settings(settings):
    settings.SEARCH_URL = settings.ELASTICSEARCH_URL = ""
    assert search.get_backend().name == "database"
    settings.SEARCH_URL = "elasticsearch://es.invalid:9200"
    backend = search.get_backend()
    assert backend.name == "elasticsearch"
    assert type(backend.engine.client.raw).__module__.startswith("elasticsearch")


def test_search_index_command_with_database_backend(db, settings, capsys):
    settings.SEARCH_URL = settings.ELASTICSEARCH_URL = ""
    call_command("search_index", "--rebuild")
    assert "database" in capsys.readouterr().out


def test_query_shape_offline():
    """What goes to the server: an AND of terms, each a phrase on the text fields or an exact field."""
    engine = EngineSearch("http://127.0.0.1:9", engine="elasticsearch", index_prefix="shape")
    body = engine.build_query(search.parse_terms("招工　13912345678"))
    first, second = body["bool"]["must"]
    assert first["bool"]["should"][0] == {"match_phrase": {"title": {"query": "招工", "boost": 2}}}
    assert not any("phone_tokens" in str(clause) for clause in first["bool"]["should"])
    # The number is matched by its keyed digest, in E.164 whatever way it was typed.
    assert {"term": {"phone_tokens": phone_token("+8613912345678")}} in second["bool"]["should"]
    assert engine.alias == "shape-appeals"


def test_the_index_never_holds_the_phone_number(db, hrss):
    appeal = factories.submit(region=hrss.region, contact_phone="+8613912345678").appeal
    document = to_document(Appeal.objects.select_related("enterprise").get(pk=appeal.pk))
    assert "13912345678" not in str(document)
    assert document["phone_tokens"] == [phone_token("+8613912345678")]
