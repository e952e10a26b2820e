"""Paging the office list: in rank order, which moves while a client pages, so a token is the
position in the ranking (not a key); a page may then repeat or skip an office whose rank moved
between two calls, which a live ranking cannot avoid. Page size up to 5,000, so one call can
return a whole large district."""

from __future__ import annotations

from services.common.errors import InvalidArgument
from services.common.paging import Page, next_token, parse_page

DEFAULT_OFFICE_PAGE = 1000
MAX_OFFICE_PAGE = 5000


def parse_office_page(page_size: int, page_token: str) -> tuple[int, int]:
    """(page size, offset) of a list request; INVALID_ARGUMENT for a bad size or token."""
    if page_size < 0:
        raise InvalidArgument.of("page_size", "must not be negative")
    if page_size > MAX_OFFICE_PAGE:
        raise InvalidArgument.of("page_size", f"must be at most {MAX_OFFICE_PAGE}")
    after = parse_page(0, page_token).after
    if after and not after.isdigit():
        raise InvalidArgument.of("page_token", "is not a token this service issued")
    return page_size or DEFAULT_OFFICE_PAGE, int(after or 0)


def office_page_token(offset: int | None) -> str:
    """The token of the page starting at `offset`; "" when there is none."""
    if offset is None:
        return ""
    return next_token(str(offset), 1, Page(size=1, after=""))
