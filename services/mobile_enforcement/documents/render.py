"""The enforcement documents' layout: one Jinja2 template per kind (templates/<kind>.html, on
base.html and macros.html) with the bureau's stylesheet (templates/documents.css), turned into PDF
by WeasyPrint with Debian's Noto CJK fonts (found by fontconfig, embedded as subsets).

What goes into a document is decided in domain/documents.py (a DocumentContent); this module only
lays it out. Two rules keep user input (party names, facts, notes) inert: every template is
autoescaped, and WeasyPrint fetches nothing, whatever a URL in the HTML or CSS says (no file://,
no http://, no data:), so a party named <img src="file:///etc/passwd"> is printed as that text.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from weasyprint import CSS, HTML
from weasyprint.text.ffi import ffi, fontconfig
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse, URLFetchingError

from services.common.errors import FailedPrecondition
from services.mobile_enforcement.domain.document_content import DocumentContent

TEMPLATES = Path(__file__).resolve().parent / "templates"
# The faces documents.css names (Debian's fonts-noto-cjk). Without them fontconfig falls back to a
# font with no Chinese glyphs and every document would print as empty boxes, so none is issued.
FACES = ("Noto Serif CJK SC", "Noto Sans CJK SC")
_FC_MATCH_PATTERN = 0


def matched_family(family: str) -> str:
    """The family fontconfig gives for `family` on this machine: itself when installed, a fallback if not."""
    config = fontconfig.FcInitLoadConfigAndFonts()
    pattern = fontconfig.FcPatternCreate()
    try:
        fontconfig.FcPatternAddString(pattern, b"family", family.encode())
        fontconfig.FcConfigSubstitute(config, pattern, _FC_MATCH_PATTERN)
        fontconfig.FcDefaultSubstitute(pattern)
        matched = fontconfig.FcFontMatch(config, pattern, ffi.new("FcResult *"))
        if matched == ffi.NULL:
            return ""
        try:
            value = ffi.new("FcChar8 **")
            fontconfig.FcPatternGetString(matched, b"family", 0, value)
            return ffi.string(ffi.cast("char *", value[0])).decode() if value[0] != ffi.NULL else ""
        finally:
            fontconfig.FcPatternDestroy(matched)
    finally:
        fontconfig.FcPatternDestroy(pattern)
        fontconfig.FcConfigDestroy(config)


def require_faces(faces: tuple[str, ...] = FACES) -> None:
    """Refuses to print without the documents' CJK faces (FailedPrecondition naming the package)."""
    missing = [face for face in faces if matched_family(face) != face]
    if missing:
        raise FailedPrecondition(f"执法文书所需的中文字体未安装：{', '.join(missing)}（Debian 软件包 fonts-noto-cjk）/ "
                                 f"the fonts the documents are printed in are not installed: {', '.join(missing)} "
                                 "(Debian package fonts-noto-cjk)")


# The one image a document shows: a signed record's signature, handed to WeasyPrint by the fetcher
# under this name (a reserved domain: nothing is ever fetched from it).
SIGNATURE_URL = "https://signature.invalid/party.png"


class RefuseEveryUrl(URLFetcher):
    """A URL fetcher that fetches nothing: the documents need no outside resource, and a URL in
    them can only have come from user input. Each refused URL is remembered (tests read them).
    A signed record's signature is the one exception, served from memory under SIGNATURE_URL."""

    def __init__(self, signature_png: bytes = b"") -> None:
        super().__init__(allowed_protocols=())
        self.refused: list[str] = []
        self.signature_png = signature_png

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        if self.signature_png and url == SIGNATURE_URL:
            return URLFetcherResponse(url, self.signature_png, {"Content-Type": "image/png"})
        self.refused.append(url)
        raise URLFetchingError(f"enforcement documents fetch no URL ({url[:80]})")


def cn_date(day: dt.date | None) -> str:
    """A date as documents write it: 2026年11月2日; empty when there is none."""
    return f"{day.year}年{day.month}月{day.day}日" if day is not None else ""


class PdfRenderer:
    """DocumentContent to PDF bytes, with the templates of `templates`."""

    def __init__(self, templates: Path = TEMPLATES) -> None:
        require_faces()
        self.environment = Environment(loader=FileSystemLoader(templates), autoescape=True,
                                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
        self.environment.filters["cn_date"] = cn_date
        self.environment.globals["signature_url"] = SIGNATURE_URL
        self.stylesheet = (templates / "documents.css").read_text(encoding="utf-8")
        # The URLs the last render refused (for tests: a refused URL is expected to be user text).
        self.last_refused: list[str] = []

    def html(self, content: DocumentContent) -> str:
        """The document's HTML, every value escaped."""
        return self.environment.get_template(f"{content.kind.lower()}.html").render(d=content)

    def __call__(self, content: DocumentContent) -> bytes:
        # A fetcher and a font configuration per render: renders run on several gRPC threads.
        fetcher = RefuseEveryUrl(content.signature_png)
        fonts = FontConfiguration()
        stylesheet = CSS(string=self.stylesheet, url_fetcher=fetcher, font_config=fonts)
        pdf = HTML(string=self.html(content), url_fetcher=fetcher).write_pdf(
            stylesheets=[stylesheet], font_config=fonts)
        self.last_refused = fetcher.refused
        if pdf is None:  # write_pdf returns the bytes when given no target
            raise RuntimeError("WeasyPrint wrote no PDF")
        return pdf
