"""Page tokens are sealed and bound to their request: a token is refused on another method, with
another filter or other parameters, once edited, when forged, and when sealed with another key."""

from __future__ import annotations

import base64
import hmac

import pytest

from services.common import paging
from services.common.config import ConfigError, Settings
from services.common.errors import InvalidArgument
from services.common.paging import NOT_OURS, next_token, page_token_key, parse_page, use_page_token_key
from services.gateway.domain.paging import office_page_token, parse_office_page
from supervision.assessment.v1 import assessment_pb2 as assessment
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as me

FILTER = 'office_id = "MH01" AND state = FILED'


@pytest.fixture(autouse=True)
def _own_key():
    """Each test seals with a key of its own, and the process's key is back afterwards."""
    before = paging._sealer
    use_page_token_key(b"k" * 32)
    yield
    paging._sealer = before


def _token_for(request, key: str = "case-0042") -> str:
    """The next-page token a full page of `request` ends with."""
    page = parse_page(request)
    return next_token(key, page.size, page)


def _refused(request) -> None:
    with pytest.raises(InvalidArgument) as raised:
        parse_page(request)
    [violation] = raised.value.violations
    assert (violation.field, violation.description) == ("page_token", NOT_OURS)


def test_a_token_continues_the_request_it_came_from():
    token = _token_for(me.ListCasesRequest(page_size=5, filter=FILTER))

    page = parse_page(me.ListCasesRequest(page_size=5, page_token=token, filter=FILTER))

    assert page.after == "case-0042"


def test_page_size_may_change_between_pages():
    token = _token_for(me.ListCasesRequest(page_size=5, filter=FILTER))

    assert parse_page(me.ListCasesRequest(page_size=50, page_token=token, filter=FILTER)).after == "case-0042"


def test_a_token_of_one_method_is_refused_by_another():
    token = _token_for(me.ListCasesRequest(page_size=5))

    _refused(me.ListEntitiesRequest(page_size=5, page_token=token))
    _refused(me.ListInspectionsRequest(page_size=5, page_token=token))


def test_a_token_is_refused_with_another_filter():
    token = _token_for(me.ListCasesRequest(page_size=5, filter=FILTER))

    _refused(me.ListCasesRequest(page_size=5, page_token=token, filter='office_id = "MH02" AND state = FILED'))
    _refused(me.ListCasesRequest(page_size=5, page_token=token, filter='office_id = "MH01"'))
    _refused(me.ListCasesRequest(page_size=5, page_token=token))


def test_a_token_without_a_filter_is_refused_with_one():
    token = _token_for(me.ListCasesRequest(page_size=5))

    _refused(me.ListCasesRequest(page_size=5, page_token=token, filter='office_id = "MH01"'))


def test_whitespace_outside_quoted_values_does_not_change_the_filter():
    token = _token_for(me.ListCasesRequest(page_size=5, filter=FILTER))

    spaced = '  office_id="MH01"   AND\tstate =  FILED '
    assert parse_page(me.ListCasesRequest(page_size=5, page_token=token, filter=spaced)).after == "case-0042"


def test_whitespace_inside_a_quoted_value_is_part_of_the_filter():
    token = _token_for(me.ListEntitiesRequest(page_size=5, filter='street = "Nanjing Road"'))

    _refused(me.ListEntitiesRequest(page_size=5, page_token=token, filter='street = "Nanjing  Road"'))
    _refused(me.ListEntitiesRequest(page_size=5, page_token=token, filter='street = "NanjingRoad"'))


def test_a_token_is_refused_with_other_request_parameters():
    rankings = _token_for(assessment.ListRankingsRequest(period="2026-Q1", page_size=5))
    targets = _token_for(me.ListPlanTargetsRequest(plan_id="plan-1", page_size=5))

    _refused(assessment.ListRankingsRequest(period="2026-Q2", page_size=5, page_token=rankings))
    _refused(assessment.ListRankingsRequest(period="2026-Q1", basis=1, page_size=5, page_token=rankings))
    _refused(me.ListPlanTargetsRequest(plan_id="plan-2", page_size=5, page_token=targets))
    assert parse_page(me.ListPlanTargetsRequest(plan_id="plan-1", page_token=targets)).after == "case-0042"


def _decoded(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def _encoded(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_token_with_any_byte_changed_is_refused():
    token = _token_for(me.ListCasesRequest(page_size=5, filter=FILTER))
    raw = _decoded(token)

    for position in range(len(raw)):  # the version, every byte of the MAC, every byte of the key
        edited = raw[:position] + bytes([raw[position] ^ 0x01]) + raw[position + 1:]
        _refused(me.ListCasesRequest(page_size=5, page_token=_encoded(edited), filter=FILTER))


def test_a_token_with_another_key_inside_is_refused():
    token = _token_for(me.ListCasesRequest(page_size=5), key="case-0042")
    raw = _decoded(token)

    _refused(me.ListCasesRequest(page_size=5, page_token=_encoded(raw.replace(b"0042", b"9999"))))
    _refused(me.ListCasesRequest(page_size=5, page_token=_encoded(raw[:-1])))
    _refused(me.ListCasesRequest(page_size=5, page_token=_encoded(raw + b"9")))


def test_only_the_issued_spelling_of_a_token_is_accepted():
    token = _token_for(me.ListCasesRequest(page_size=5))

    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # The last character's lowest bit is a spare one (26 bytes: 2 spare bits): it decodes the same.
    spare = token[:-1] + alphabet[alphabet.index(token[-1]) ^ 1]
    assert len(_decoded(token)) % 3 and _decoded(spare) == _decoded(token)

    for variant in (spare, token + "=", token + "!", "!" + token, token[:10] + "\n" + token[10:], token + "A"):
        _refused(me.ListCasesRequest(page_size=5, page_token=variant))


@pytest.mark.parametrize("key", ["case-0042", "", "2026-03-02T08:00:00Z|a:b"])
def test_a_forged_token_of_the_old_unsigned_form_is_refused(key):
    forged = base64.urlsafe_b64encode(f"k:{key}".encode()).decode()

    _refused(me.ListCasesRequest(page_size=5, page_token=forged))


def test_a_token_sealed_with_another_key_is_refused():
    use_page_token_key(b"another deployment's key, 32 b.")
    token = _token_for(me.ListCasesRequest(page_size=5))
    use_page_token_key(b"k" * 32)

    _refused(me.ListCasesRequest(page_size=5, page_token=token))


def test_an_overlong_token_is_refused_before_it_is_decoded():
    _refused(me.ListCasesRequest(page_size=5, page_token="A" * 5000))


def test_the_seal_is_hmac_sha256_under_the_key():
    key = b"0123456789abcdef0123456789abcdef"
    message = b"scope\x00case-0042"

    assert paging._Sealer(key).mac(message) == hmac.digest(key, message, "sha256")[:16]


# --- the key -------------------------------------------------------------------------------------

SECRET = "s" * 40
JWT = "j" * 40


def test_page_token_secret_is_the_key_when_set():
    with_both = page_token_key(Settings.from_env({"PAGE_TOKEN_SECRET": SECRET, "JWT_SECRET": JWT}))

    assert with_both == page_token_key(Settings.from_env({"PAGE_TOKEN_SECRET": SECRET}))
    assert with_both != page_token_key(Settings.from_env({"JWT_SECRET": JWT}))


def test_without_one_the_key_is_derived_from_the_jwt_secret_never_equal_to_it():
    key = page_token_key(Settings.from_env({"JWT_SECRET": JWT}))

    assert key == page_token_key(Settings.from_env({"JWT_SECRET": JWT}))  # every replica agrees
    assert key != JWT.encode() and JWT.encode() not in key


def test_without_any_secret_the_key_is_one_per_process():
    assert page_token_key(Settings.from_env({})) == page_token_key(Settings.from_env({}))


def test_a_short_page_token_secret_stops_start_up_without_showing_it():
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"PAGE_TOKEN_SECRET": "short-secret"})

    assert "PAGE_TOKEN_SECRET" in str(raised.value) and "short-secret" not in str(raised.value)
    assert "short-secret" not in repr(Settings.from_env({"PAGE_TOKEN_SECRET": "short-secret" * 3}))


# --- the gateway's office list ---------------------------------------------------------------------

def _office_refused(token: str, office_id: str | None) -> None:
    with pytest.raises(InvalidArgument) as raised:
        parse_office_page(10, token, office_id)
    [violation] = raised.value.violations
    assert (violation.field, violation.description) == ("page_token", NOT_OURS)


def test_an_office_token_gives_back_its_offset_for_the_same_office_filter():
    assert parse_office_page(10, office_page_token(20, None), None) == (10, 20)
    assert parse_office_page(10, office_page_token(20, "MH01"), "MH01") == (10, 20)


def test_an_office_token_is_refused_with_another_office_filter():
    _office_refused(office_page_token(20, None), "MH01")
    _office_refused(office_page_token(20, "MH01"), "MH02")


def test_an_edited_or_forged_office_token_is_refused():
    raw = _decoded(office_page_token(20, None))

    _office_refused(_encoded(raw[:-2] + b"99"), None)
    _office_refused(base64.urlsafe_b64encode(b"k:4000").decode(), None)
    _office_refused(_token_for(me.ListCasesRequest(page_size=5), key="20"), None)  # another collection's


def test_a_huge_filter_is_bound_but_not_kept_in_the_scope_cache():
    huge = 'office_id = "' + "x" * 5000 + '"'
    cached = paging.collection_scope.cache_info().currsize

    token = _token_for(me.ListCasesRequest(page_size=5, filter=huge))

    assert paging.collection_scope.cache_info().currsize == cached
    assert parse_page(me.ListCasesRequest(page_size=5, page_token=token, filter=huge)).after == "case-0042"
    _refused(me.ListCasesRequest(page_size=5, page_token=token, filter=huge[:-2] + 'y"'))
