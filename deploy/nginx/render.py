"""Render Huying's nginx configuration from huying.conf.template.

    python deploy/nginx/render.py site --out /etc/nginx/huying          # Debian: then link huying.conf
    python deploy/nginx/render.py standalone --out /tmp/x --listen 127.0.0.1:18480   # a root-less nginx

``site`` writes the server block (plus its upstreams) for Debian's /etc/nginx/sites-enabled/;
``standalone`` wraps it in a complete nginx.conf whose pid, logs and temporary files all live under
``--out``, for running nginx without root (CI: ``nginx -p OUT -c nginx.conf -e OUT/error.log``).
Both write ``proxy_params.conf`` and the error pages next to it. The body limit and the numbers on the
"too large" page come from Django's settings (ATTACHMENT_MAX_FILES, ATTACHMENT_MAX_BYTES).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PLACEHOLDER = re.compile(r"{{(\w+)}}")

STANDALONE = """# Standalone nginx for Huying, rendered by deploy/nginx/render.py: everything under {out}.
{user}worker_processes 1;
pid {out}/nginx.pid;
error_log {out}/error.log warn;

events {{
    worker_connections 512;
}}

http {{
    include {mime_types};
    default_type application/octet-stream;
    sendfile on;
    access_log {out}/access.log;
    client_body_temp_path {out}/tmp/body;
    proxy_temp_path {out}/tmp/proxy;
    fastcgi_temp_path {out}/tmp/fastcgi;
    uwsgi_temp_path {out}/tmp/uwsgi;
    scgi_temp_path {out}/tmp/scgi;

    include {out}/huying.conf;
}}
"""


def fill(text: str, values: dict[str, str]) -> str:
    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"no value for {{{{{name}}}}}")
        return values[name]

    return PLACEHOLDER.sub(replace, text)


def limits() -> dict[str, int]:
    """The attachment limits and the largest request body, from Django's settings."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings

    return {
        "max_files": settings.ATTACHMENT_MAX_FILES,
        "max_file_bytes": settings.ATTACHMENT_MAX_BYTES,
        "max_body": settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
    }


def nginx_size(size: int) -> str:
    mib = 1024 * 1024
    return f"{size // mib}m" if size % mib == 0 else str(size)


def render(
    *,
    mode: str,
    out: Path,
    listen: str,
    server_name: str,
    web: str,
    websockets: str,
    static_root: str,
    install_dir: str | None = None,
) -> Path:
    """Write the configuration, proxy_params.conf and error pages into ``out``; return the main file."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "errors").mkdir(exist_ok=True)
    installed = install_dir or str(out.resolve())
    numbers = limits()
    page_values = {"max_files": str(numbers["max_files"]), "max_file_mb": f"{numbers['max_file_bytes'] / 2**20:g}"}
    for page in sorted((HERE / "errors").iterdir()):
        (out / "errors" / page.name).write_text(fill(page.read_text(encoding="utf-8"), page_values), encoding="utf-8")
    shutil.copyfile(HERE / "proxy_params.conf", out / "proxy_params.conf")
    site = fill(
        (HERE / "huying.conf.template").read_text(encoding="utf-8"),
        {
            "listen": listen,
            "server_name": server_name,
            "web": web,
            "websockets": websockets,
            "static_root": static_root.rstrip("/"),
            "max_body": nginx_size(numbers["max_body"]),
            "errors_dir": f"{installed}/errors",
            "proxy_params": f"{installed}/proxy_params.conf",
        },
    )
    (out / "huying.conf").write_text(site, encoding="utf-8")
    if mode == "site":
        return out / "huying.conf"
    for folder in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (out / "tmp" / folder).mkdir(parents=True, exist_ok=True)
    # As root, nginx would hand requests to "nobody", who cannot enter a private temporary folder.
    user = "user root;\n" if hasattr(os, "geteuid") and os.geteuid() == 0 else ""
    main = out / "nginx.conf"
    main.write_text(
        STANDALONE.format(out=out.resolve(), user=user, mime_types="/etc/nginx/mime.types"), encoding="utf-8"
    )
    return main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["site", "standalone"])
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument("--listen", default="80", help="nginx listen address (default 80)")
    parser.add_argument("--server-name", default="_", help="server_name (default: any)")
    parser.add_argument("--web", default="127.0.0.1:8000", help="gunicorn's address (GUNICORN_BIND)")
    parser.add_argument("--websockets", default="127.0.0.1:8001", help="uvicorn's address for /ws/")
    parser.add_argument("--static-root", default=str(ROOT / "staticfiles"), help="STATIC_ROOT (collectstatic's folder)")
    parser.add_argument("--install-dir", help="where --out's files will be found by nginx, if not --out itself")
    args = parser.parse_args(argv)
    path = render(
        mode=args.mode,
        out=args.out,
        listen=args.listen,
        server_name=args.server_name,
        web=args.web,
        websockets=args.websockets,
        static_root=args.static_root,
        install_dir=args.install_dir,
    )
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
