"""mobile_enforcement's checklists through a real gRPC server: a versioned checklist per key object type."""

from __future__ import annotations

import datetime as dt

from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from tests.api.mobile_enforcement.support import (
    INVALID,
    NOT_FOUND,
    PRECONDITION,
    date,
    expect_error,
)


def test_every_key_object_type_has_a_versioned_checklist(client):
    listed = client.checklists.ListChecklists(pb.ListChecklistsRequest(page_size=1000)).checklists
    assert {c.category for c in listed} == set(pb.EntityCategory.values()) - {0}
    assert all(i.legal_basis and i.text and i.failure_outcome for c in listed for i in c.items)
    assert all(any(i.key for i in c.items) for c in listed)
    catering = [c.version for c in listed if c.category == pb.ENTITY_CATEGORY_CATERING]
    assert catering == [1, 2]
    old = client.checklists.GetChecklist(pb.GetChecklistRequest(category=pb.ENTITY_CATEGORY_CATERING,
                                                                on=date(dt.date(2024, 6, 30))))
    current = client.checklists.GetChecklist(pb.GetChecklistRequest(category=pb.ENTITY_CATEGORY_CATERING))
    assert (old.version, current.version) == (1, 2) and len(current.items) > len(old.items)
    page = client.checklists.ListChecklists(pb.ListChecklistsRequest(page_size=5))
    following = client.checklists.ListChecklists(pb.ListChecklistsRequest(page_size=5,
                                                                          page_token=page.next_page_token))
    assert [(c.category, c.version) for c in [*page.checklists, *following.checklists]] == [
        (c.category, c.version) for c in listed[:10]]
    for request, code in [
        (pb.GetChecklistRequest(), INVALID),
        (pb.GetChecklistRequest(category=99), INVALID),
        (pb.GetChecklistRequest(category=pb.ENTITY_CATEGORY_PHARMACY, version=7), NOT_FOUND),
        (pb.GetChecklistRequest(category=pb.ENTITY_CATEGORY_PHARMACY, version=-1), INVALID),
        (pb.GetChecklistRequest(category=pb.ENTITY_CATEGORY_BEAUTY_SALON, on=date(dt.date(2020, 5, 1))), PRECONDITION),
    ]:
        expect_error(lambda request=request: client.checklists.GetChecklist(request), code)
    expect_error(lambda: client.checklists.ListChecklists(pb.ListChecklistsRequest(filter="category = X")), INVALID)
