"""Suggestion latency of the knowledge base ("these may answer your question") at 10,000 articles.

    .venv/bin/python bench/knowledge_suggest.py --articles 10000 --queries 300

Writes N published articles into a throwaway SQLite database (or DATABASE_URL if set), built from
phrase banks per category so that articles share vocabulary the way real policy answers do, then
times, in one process: the index build, and ``knowledge.selectors.suggestions_for`` (index search
plus the database fetch of the three articles) for typed queries of three lengths, and the whole
``POST /kb/suggest/`` request through Django's test client. Prints p50/p95/p99/max per figure, the
index's size in memory, and precision@1 (does the article a query was derived from come first).
Target: suggestions < 100 ms at 10,000 articles.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
if "DATABASE_URL" not in os.environ:
    os.environ["HUYING_VAR_DIR"] = tempfile.mkdtemp(prefix="huying-kb-bench-")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from knowledge import selectors  # noqa: E402
from knowledge.index import current_index, reset_index  # noqa: E402
from knowledge.models import Article, ArticleState  # noqa: E402
from routing.models import Bureau, Category  # noqa: E402

TOPICS = {
    "employment": [
        "招工",
        "招聘会",
        "用工对接",
        "技能培训",
        "稳岗返还",
        "社保补贴",
        "员工返岗",
        "劳务派遣",
        "岗位补贴",
    ],
    "financing": ["贷款", "担保", "贴息", "续贷", "信用贷", "融资担保费", "应急转贷", "抵押", "授信"],
    "tax": ["增值税", "留抵退税", "发票", "减免", "所得税", "缓缴", "申报", "退税进度", "加计扣除"],
    "export": ["出口退税", "报关", "信用保险", "订单", "海运费", "展会补贴", "汇率", "通关", "原产地证"],
    "license": ["营业执照", "许可证", "变更登记", "年报", "经营范围", "食品经营许可", "审批时限", "备案", "注销"],
    "rent": ["租金减免", "厂房", "物业", "租赁合同", "园区", "水电费", "场地", "续租", "押金"],
}
ASKS = ["怎么申请", "需要什么材料", "条件是什么", "多久能办好", "在哪里办理", "有没有补贴", "标准是多少"]
WHO = ["小微企业", "个体工商户", "制造业企业", "外贸企业", "新办企业", "科技型中小企业", "餐饮门店"]
WHERE = ["在网上办事大厅", "到政务服务中心窗口", "通过粤商通", "向所在区的主管部门", "在电子税务局"]


def make_articles(n: int, rng: random.Random) -> list[tuple[str, str, str]]:
    rows = []
    for i in range(n):
        code = rng.choice(list(TOPICS))
        topic, second = rng.sample(TOPICS[code], 2)
        who, ask, where = rng.choice(WHO), rng.choice(ASKS), rng.choice(WHERE)
        question = f"{who}{topic}{ask}？（第{i}号）"
        answer = (
            f"符合条件的{who}可以{where}申请{topic}，同时可了解{second}相关政策。"
            f"办理{topic}一般需要营业执照、申请表和近三个月的{second}材料，"
            f"材料齐全的在5个工作日内办结。具体以{rng.choice(['市', '区', '省'])}级部门公布的办事指南为准。"
        )
        rows.append((code, question, answer))
    return rows


def _build_for_memory():
    from knowledge.index import _build

    return _build(timezone.localdate())


def quantiles(values: list[float]) -> str:
    values = sorted(values)
    q = statistics.quantiles(values, n=100, method="inclusive")
    return f"p50 {q[49]:6.2f}  p95 {q[94]:6.2f}  p99 {q[98]:6.2f}  max {values[-1]:6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    call_command("migrate", verbosity=0)
    from routing.taxonomy import load_taxonomy

    load_taxonomy(with_regions=True)
    settings.KNOWLEDGE = {**settings.KNOWLEDGE, "INDEX_CHECK_SECONDS": 3600}
    author, _ = get_user_model().objects.get_or_create(username="kb-bench")
    bureau = Bureau.objects.first()
    categories = {c.code: c for c in Category.objects.all()}
    Article.objects.all().delete()
    texts = make_articles(args.articles, rng)
    now = timezone.now()
    Article.objects.bulk_create(
        [
            Article(
                bureau=bureau,
                category=categories.get(code) or next(iter(categories.values())),
                question=question,
                answer=answer,
                author=author,
                state=ArticleState.PUBLISHED,
                published_at=now,
            )
            for code, question, answer in texts
        ],
        batch_size=2000,
    )

    reset_index()
    started = time.perf_counter()
    index = current_index()
    build_ms = (time.perf_counter() - started) * 1000
    # Memory is measured on a second build (tracing slows it down, so it is not timed).
    tracemalloc.start()
    kept = _build_for_memory()
    size, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept
    print(
        f"articles: {len(index.articles)}  features: {len(index.idf)}  postings: "
        f"{sum(len(p[0]) for p in index.postings.values())}"
    )
    print(f"index build: {build_ms:.0f} ms; index kept in memory {size / 1e6:.1f} MB", end="")
    print(f" (peak while building {peak / 1e6:.1f} MB)")

    client = Client()
    client.get("/")  # CSRF cookie and URL resolver warm-up
    for label, make in [
        ("short (title only)", lambda q, a: q.split("？")[0][:10]),
        ("medium (title + a sentence)", lambda q, a: q.split("？")[0] + " " + a[:40]),
        ("long (title + full description)", lambda q, a: q + a * 3),
    ]:
        latencies, http_latencies, hits = [], [], 0
        for _ in range(args.queries):
            position = rng.randrange(len(texts))
            _code, question, answer = texts[position]
            text = make(question, answer)
            started = time.perf_counter()
            found = selectors.suggestions_for(text=text)
            latencies.append((time.perf_counter() - started) * 1000)
            # Many generated articles share a topic and a question pattern, so "right" means the first
            # answer is about the same topic as the query's source article.
            topic = next(t for t in TOPICS[_code] if t in question)
            hits += bool(found) and topic in found[0].article.question
            started = time.perf_counter()
            response = client.post("/kb/suggest/", {"title": text[:200], "description": text[:5000]})
            http_latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        print(f"{label:34s} selector {quantiles(latencies)}")
        print(f"{'':34s} HTTP     {quantiles(http_latencies)}  top-1 on topic {hits / args.queries:.2f}")
    one, five, fifteen = os.getloadavg()
    print(f"load average: {one:.2f} {five:.2f} {fifteen:.2f}  cores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
