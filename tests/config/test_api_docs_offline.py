"""/api/docs/ loads Swagger UI from the project's own static files: it works without internet."""

from __future__ import annotations

import re

from django.contrib.staticfiles import finders


def test_api_docs_reference_no_external_host(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui-bundle.js" in html
    # No absolute or protocol-relative URL anywhere in the page (CDNs, fonts, analytics).
    external = re.findall(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", html, flags=re.IGNORECASE)
    assert external == []
    assets = re.findall(r"""(?:src|href)=["'](/static/[^"']+)["']""", html)
    assert len(assets) >= 3
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not in the project's static files"
