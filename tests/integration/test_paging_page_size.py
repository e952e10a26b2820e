"""page_size above a List method's maximum is served at the maximum (AIP-158), not refused; a negative
size is still INVALID_ARGUMENT on page_size. Checked through a real gRPC server holding more records than
one page may carry (the function every List method uses: tests/unit/common/test_paging_page_size.py)."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from sqlalchemy import insert

from services.command_center.models import Office
from services.common.paging import MAX_PAGE_SIZE
from supervision.command_center.v1 import command_center_pb2 as cc
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from tests.conftest import make_settings
from tests.support import host, violations


@pytest.fixture(scope="module")
def crowded_center(tmp_path_factory):
    """command_center holding MAX_PAGE_SIZE + 1 offices (written straight to its store: the test is
    about paging them, and a thousand CreateOffice calls would only slow it down)."""
    running = host("command_center", f"sqlite:///{tmp_path_factory.mktemp('cc') / 'service.db'}", make_settings())
    stamp = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    with running.store.transaction() as session:
        session.execute(insert(Office), [
            {"id": f"X{number:05d}", "name": f"所{number}", "district": "闵行区", "created_at": stamp,
             "updated_at": stamp, "version": 1} for number in range(MAX_PAGE_SIZE + 1)])
    yield cc_grpc.OfficeServiceStub(running.channel)
    running.close()


def test_a_size_above_the_maximum_is_served_a_full_page_and_paging_goes_on(crowded_center):
    first = crowded_center.ListOffices(cc.ListOfficesRequest(page_size=MAX_PAGE_SIZE * 10))
    assert len(first.offices) == MAX_PAGE_SIZE and first.next_page_token

    # The token carries on with the same oversize request, as with any page.
    rest = crowded_center.ListOffices(cc.ListOfficesRequest(page_size=MAX_PAGE_SIZE * 10,
                                                            page_token=first.next_page_token))
    assert [o.id for o in rest.offices] == [f"X{MAX_PAGE_SIZE:05d}"] and rest.next_page_token == ""


def test_a_negative_size_is_still_refused_through_grpc(crowded_center):
    with pytest.raises(grpc.RpcError) as raised:
        crowded_center.ListOffices(cc.ListOfficesRequest(page_size=-5))

    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(raised.value) == {"page_size": "must not be negative"}
