"""The enforcement documents (执法文书) as PDF: templates, the bureau's numbering configuration
(documents.yaml) and the renderer (render.py). WeasyPrint is loaded at the first document, not when
the service starts: most processes (the worker, the hosts of tests) never render one."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from services.common.errors import FailedPrecondition
from services.mobile_enforcement.domain.document_content import DocumentContent

if TYPE_CHECKING:
    from services.mobile_enforcement.documents.render import PdfRenderer

_lock = threading.Lock()
_renderer: PdfRenderer | None = None


def render_pdf(content: DocumentContent) -> bytes:
    """The document as PDF, with the bureau's templates."""
    global _renderer
    with _lock:
        if _renderer is None:
            try:
                from services.mobile_enforcement.documents.render import PdfRenderer
            except OSError as error:  # WeasyPrint loads Pango with dlopen
                raise FailedPrecondition("执法文书无法生成：缺少 Pango 库（Debian 软件包 libpango-1.0-0、"
                                         f"libpangoft2-1.0-0）/ documents cannot be printed without Pango: "
                                         f"{error}") from None
            # Refused (fonts missing) leaves no renderer: the next document checks again.
            _renderer = PdfRenderer()
    return _renderer(content)
