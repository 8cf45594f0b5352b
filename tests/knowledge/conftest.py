from __future__ import annotations

import pytest

from knowledge import services
from knowledge.index import reset_index
from tests import factories


@pytest.fixture(autouse=True)
def _fresh_index(settings):
    # Every test sees its own articles at once (no 5-second check interval).
    settings.KNOWLEDGE = {**settings.KNOWLEDGE, "INDEX_CHECK_SECONDS": 0, "BACKGROUND_REBUILD": False}
    reset_index()
    yield
    reset_index()


@pytest.fixture
def employment():
    return factories.category("employment")


@pytest.fixture
def make_article(hrss, officer, lead, employment):
    """Create and publish an article of the hrss bureau through the real services."""

    def make(question: str, answer: str, *, publish: bool = True, **fields):
        data = {"question": question, "answer": answer, "category": employment, **fields}
        article = services.article_create(user=officer, bureau_id=hrss.pk, data=data)
        if publish:
            services.article_submit(user=officer, article_id=article.pk)
            article = services.article_publish(user=lead, article_id=article.pk, confirmed=True)
        return article

    return make
