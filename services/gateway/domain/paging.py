"""Paging the office list: in rank order, which moves while a client pages, so a token is the
position in the ranking (not a key); a page may then repeat or skip an office whose rank moved
between two calls, which a live ranking cannot avoid. Page size up to 5,000, so one call can
return a whole large district.

Tokens are sealed like every List method's (services.common.paging), bound to the office list
and its office filter: the HTTP list and the gRPC ListOfficeIndices accept each other's tokens
for the same filter, and nothing else."""

from __future__ import annotations

from services.common.errors import InvalidArgument
from services.common.paging import NOT_OURS, collection_scope, open_token, page_size_of, seal_token

DEFAULT_OFFICE_PAGE = 1000
MAX_OFFICE_PAGE = 5000
_OFFICES = "supervision.gateway.office-ranking"


def office_list_scope(office_id: str | None) -> bytes:
    """What an office page token is bound to: the ranking, narrowed to one office or not."""
    return collection_scope(_OFFICES, ("office_id", office_id or ""))


def parse_office_page(page_size: int, page_token: str, office_id: str | None) -> tuple[int, int]:
    """(page size, offset) of a list request, the size capped at MAX_OFFICE_PAGE; INVALID_ARGUMENT for a
    negative size or a bad token."""
    size = page_size_of(page_size, max_size=MAX_OFFICE_PAGE, default_size=DEFAULT_OFFICE_PAGE)
    offset = open_token(page_token, office_list_scope(office_id)) if page_token else ""
    if offset and not offset.isdigit():  # only if our own key signed something else
        raise InvalidArgument.of("page_token", NOT_OURS)
    return size, int(offset or 0)


def office_page_token(offset: int | None, office_id: str | None) -> str:
    """The token of the page starting at `offset` of the list filtered to `office_id`; "" when there is none."""
    if offset is None:
        return ""
    return seal_token(str(offset), office_list_scope(office_id))
