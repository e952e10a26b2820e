"""Helpers of command_center's API tests: request builders, store counts, outbox events, tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

import grpc
import pytest
from google.protobuf.message import Message
from google.type import date_pb2
from sqlalchemy import func, select

from services.command_center.models import Office, Officer, Outbox, Task
from services.common import contracts
from services.common.auth import issue_token
from supervision.command_center.v1 import command_center_pb2 as pb
from tests.support import violations

M = TypeVar("M", bound=Message)

TODAY = dt.date(2026, 11, 2)


def date(value: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def office(office_id="MH01", name="莘庄市场监督管理所", streets=("莘庄镇",)) -> pb.Office:
    return pb.Office(id=office_id, name=name, district="闵行区", streets=list(streets))


def officer(officer_id="MH01-01", office_id="MH01", group=pb.GROUP_KIND_SUPERVISION, certificate="SH0101",
            expires=TODAY + dt.timedelta(days=100)) -> pb.Officer:
    return pb.Officer(id=officer_id, name="王伟", office_id=office_id, group=group, certificate_no=certificate,
                      certificate_expires=date(expires) if expires else date_pb2.Date())


def counts(client) -> dict[str, int]:
    client.running.settle()  # include the indicator refresh a change causes
    with client.running.store.read() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Office, Officer, Task, Outbox)}


def events(client, message_class: type[M]) -> list[tuple[dict[str, Any], M]]:
    return outbox_events(client.running, message_class)


def outbox_events(running, message_class: type[M]) -> list[tuple[dict[str, Any], M]]:
    """The outbox's events of one message type, oldest first: each envelope with its decoded message."""
    running.settle()
    event_type = contracts.type_name(message_class)
    with running.store.read() as session:
        rows = session.scalars(select(Outbox).where(Outbox.event_type == event_type).order_by(Outbox.id))
        return [(row.envelope, contracts.decode(message_class, row.envelope["type"], row.envelope["data"]))
                for row in rows]


def expect_error(call, code: grpc.StatusCode) -> dict[str, str]:
    with pytest.raises(grpc.RpcError) as info:
        call()
    assert info.value.code() == code, info.value.details()
    return violations(info.value)


SECRET = "test-secret-of-at-least-32-bytes!!"


def token(roles, office_id="", **kwargs) -> str:
    return issue_token(SECRET, subject="u1", roles=roles, office_id=office_id, **kwargs)


def auth(value: str):
    return (("authorization", f"Bearer {value}"),)
