"""Commands on assessment: closing an assessment period and listing the closed ones."""

from __future__ import annotations

import argparse

from services.cli.connection import join_filter, list_all, new_request_id
from services.cli.output import enum_label, to_dict
from services.cli.parsing import bilingual, choice_of, positive_int
from services.cli.session import Session
from supervision.assessment.v1 import assessment_pb2 as pb
from supervision.assessment.v1 import assessment_pb2_grpc as pb_grpc

SERVICE = "assessment"

PERIOD_KINDS = {"month": "PERIOD_KIND_MONTH", "quarter": "PERIOD_KIND_QUARTER", "year": "PERIOD_KIND_YEAR"}

PERIOD_COLUMNS = [
    ("期间 period", lambda p: p["key"]),
    ("类型 kind", lambda p: enum_label(p["kind"], "PERIOD_KIND_")),
    ("开始 start", lambda p: p.get("start_date")),
    ("结束 end", lambda p: p.get("end_date")),
    ("方案 scheme", lambda p: p["scheme_version"]),
    ("全区指数 index", lambda p: _rounded(p.get("district_index"))),
    ("所数 offices", lambda p: p["office_count"]),
    ("新开改进 plans opened", lambda p: p["improvement_plans_opened"]),
    ("关闭人 closed by", lambda p: p["closed_by"]),
]


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Adds `periods` to the command line."""
    periods = commands.add_parser(
        "periods", parents=[common], help=bilingual("考核期间", "assessment periods"),
        description=bilingual("考核期间：关闭（结算）、列表", "assessment periods: close, list"))
    actions = periods.add_subparsers(dest="action", required=True, metavar="ACTION")
    close = actions.add_parser(
        "close", parents=[common],
        help=bilingual("关闭一个已结束的考核期间", "close an assessment period that has ended"),
        description=bilingual(
            "关闭考核期间：按期末数据计分、排名（含工作量系数），验证以往改进计划，为未达标指标开改进计划。"
            "已关闭的期间不会再变。",
            "close an assessment period: score every office on the values at its end, rank them with and "
            "without workload coefficients, verify earlier improvement plans and open one for every "
            "indicator under target. A closed period never changes."))
    close.add_argument("period", help=bilingual("期间，如 2026-09、2026-Q3 或 2026",
                                                "the period: 2026-09, 2026-Q3 or 2026"))
    close.add_argument("--request-id", help=bilingual("请求编号，默认随机生成", "request id; a new one by default"))
    close.set_defaults(handler=close_period)
    listing = actions.add_parser(
        "list", parents=[common], help=bilingual("列出已关闭的期间", "list closed periods"),
        description=bilingual("列出已关闭的期间（新的在前）", "list closed periods, newest first"))
    listing.add_argument("--kind", type=choice_of(PERIOD_KINDS, "类型", "kind"),
                         help=bilingual("按类型", "only this kind: " + ", ".join(PERIOD_KINDS)))
    listing.add_argument("--limit", type=positive_int, help=bilingual("最多显示条数（默认全部）",
                                                                      "at most this many (default: all)"))
    listing.set_defaults(handler=list_periods)


def close_period(args, session: Session) -> int:
    """`periods close PERIOD`."""
    stub = pb_grpc.ScoreServiceStub(session.connection.channel(SERVICE))
    period = session.connection.call(SERVICE, stub.ClosePeriod, pb.ClosePeriodRequest(
        request_id=args.request_id or new_request_id(), period=args.period))
    session.output.record(to_dict(period), PERIOD_COLUMNS)
    return 0


def list_periods(args, session: Session) -> int:
    """`periods list`."""
    text = join_filter([f"kind = {args.kind}"] if args.kind else [], None)
    stub = pb_grpc.ScoreServiceStub(session.connection.channel(SERVICE))
    periods = list_all(session.connection, SERVICE, stub.ListPeriods,
                       lambda **page: pb.ListPeriodsRequest(filter=text, **page), "periods", limit=args.limit)
    session.output.records([to_dict(p) for p in periods], PERIOD_COLUMNS)
    return 0


def _rounded(value) -> str:
    return "" if value is None else f"{value:.2f}"
