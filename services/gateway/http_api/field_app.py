"""The field app's pages (static/field, an offline-first web app): /field redirects to /field/, which
is its index.html; its other files are served from the same folder, each revalidated before use (the
service worker keeps the copies the app runs offline from). Their Content-Security-Policy is the
dashboard's plus what the app needs: the identity provider's origins to sign in, images from blob:
and data: (photos before upload, the signature pad), its service worker and manifest."""

from __future__ import annotations

import functools
import gzip
import hashlib
import mimetypes
from pathlib import Path

from aiohttp import web

STATIC_FIELD = Path(__file__).resolve().parent.parent / "static" / "field"
mimetypes.add_type("application/manifest+json", ".webmanifest")

MISSING_APP = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>移动执法应用尚未安装</title>
<body style="font-family:sans-serif;padding:2em">
<h1>移动执法应用尚未安装</h1>
<p>服务器上缺少应用文件（static/field/index.html），请联系系统管理员。</p>
<p>The field app's files (static/field/index.html) are missing on this server.</p>
</body></html>"""


# Text files go compressed to a phone on a slow network (the whole shell is about a third of its size
# in gzip); images are compressed already.
COMPRESSIBLE = frozenset({".html", ".js", ".css", ".webmanifest", ".svg", ".json"})


@functools.lru_cache(maxsize=64)
def _compressed(path: Path, modified_ns: int) -> tuple[bytes, str]:
    """The file gzip-compressed and its entity tag, once per version of the file (its mtime)."""
    content = path.read_bytes()
    return gzip.compress(content, compresslevel=9, mtime=0), f'"{hashlib.sha256(content).hexdigest()[:32]}-gz"'


def field_policy(base_policy: str, extra_origins: tuple[str, ...]) -> str:
    """The dashboard's policy with the field app's additions: connect-src the identity provider's
    origins, img-src blob: data:, worker-src and manifest-src 'self'."""
    directives = dict(part.strip().split(" ", 1) for part in base_policy.split(";") if part.strip())
    directives["connect-src"] = " ".join(["'self'", *extra_origins])
    directives["img-src"] = "'self' data: blob:"
    directives["worker-src"] = "'self'"
    directives["manifest-src"] = "'self'"
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def register(app: web.Application, base_policy: str, extra_origins: tuple[str, ...], root: Path = STATIC_FIELD) -> None:
    """Adds /field, /field/ and /field/{file}."""
    headers = {"Content-Security-Policy": field_policy(base_policy, extra_origins), "Cache-Control": "no-cache"}

    async def redirect(request):
        raise web.HTTPMovedPermanently("/field/")

    async def index(request):
        page = root / "index.html"
        if not page.is_file():
            return web.Response(status=503, text=MISSING_APP, content_type="text/html", charset="utf-8",
                                headers={**headers, "Retry-After": "60"})
        return _serve(request, page)

    async def static_file(request):
        name = request.match_info["name"]
        base = root.resolve()
        # Only files inside the folder: no "..", no symlink out, no listing of a folder.
        try:
            path = (base / name).resolve(strict=True)
        except (OSError, RuntimeError):
            raise web.HTTPNotFound() from None
        if base not in path.parents or not path.is_file() or any(p.startswith(".") for p in Path(name).parts):
            raise web.HTTPNotFound()
        return _serve(request, path)

    def _serve(request: web.Request, path: Path) -> web.StreamResponse:
        if path.suffix not in COMPRESSIBLE or "gzip" not in request.headers.get("Accept-Encoding", ""):
            return web.FileResponse(path, headers=headers)
        body, etag = _compressed(path, path.stat().st_mtime_ns)
        answer_headers = {**headers, "ETag": etag, "Vary": "Accept-Encoding"}
        if etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=answer_headers)
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        charset = "utf-8" if kind.startswith("text/") or kind.endswith(("javascript", "json")) else None
        return web.Response(body=body, content_type=kind, charset=charset,
                            headers={**answer_headers, "Content-Encoding": "gzip"})

    app.router.add_get("/field", redirect)
    app.router.add_get("/field/", index)
    app.router.add_get("/field/{name:.+}", static_file)
