"""Checks of the evidence trails (hash chains): one custody item's or one inspection's/case's over
gRPC, or every trail of a store, as `python -m services.<service> verify-trails` does."""

from __future__ import annotations

import argparse

from services.cli.connection import CommandFailed
from services.cli.output import to_dict
from services.cli.parsing import bilingual
from services.cli.session import Session

# The services that keep evidence trails (their runtime's `trails`).
TRAIL_SERVICES = ["facilities", "mobile_enforcement"]

RESULT_FIELDS = [
    ("对象 subject", lambda r: r["subject"]),
    ("完整 intact", lambda r: r["intact"]),
    ("已检查 records checked", lambda r: r["records_checked"]),
    ("断点 broken at", lambda r: r["broken_at"] or ""),
    ("问题 problem", lambda r: r["problem"]),
    ("说明 detail", lambda r: r["detail"]),
]
CHAIN_COLUMNS = [
    ("服务 service", lambda r: r["service"]),
    ("表 table", lambda r: r["table"]),
    ("链 chain", lambda r: r["chain_key"]),
    ("记录 records", lambda r: r["records_checked"]),
    ("完整 intact", lambda r: r["intact"]),
    ("断点 broken at", lambda r: r["broken_at"] or ""),
    ("问题 problem", lambda r: r["problem"]),
    ("说明 detail", lambda r: r["detail"]),
]


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Adds `trails` to the command line."""
    trails = commands.add_parser(
        "trails", parents=[common], help=bilingual("证据链校验", "evidence trail verification"),
        description=bilingual("校验证据链（哈希链）。有断链时退出码为 1。",
                              "verify evidence trails (hash chains); exit status 1 when one is broken"))
    actions = trails.add_subparsers(dest="action", required=True, metavar="ACTION")
    custody = actions.add_parser("custody", parents=[common],
                                 help=bilingual("校验一件罚没物品的保管链", "verify one custody item's trail"),
                                 description=bilingual("通过 facilities 服务校验一件物品的保管记录链",
                                                       "verify one custody item's trail through facilities"))
    custody.add_argument("item_id", help=bilingual("物品编号", "the custody item's id"))
    custody.set_defaults(handler=verify_custody)
    audit = actions.add_parser("audit", parents=[common],
                               help=bilingual("校验检查或案件的审计链",
                                              "verify an inspection's or a case's audit trail"),
                               description=bilingual("通过 mobile_enforcement 服务校验审计链",
                                                     "verify an audit trail through mobile_enforcement"))
    audit.add_argument("subject", help=bilingual("inspection/<编号> 或 case/<编号>", "inspection/<id> or case/<id>"))
    audit.set_defaults(handler=verify_audit)
    check = actions.add_parser(
        "check", parents=[common], help=bilingual("直接读库，校验全部证据链", "verify every trail, reading the stores"),
        description=bilingual(
            "直接读各服务的库（DATA_DIR 下的 SQLite 或 <SERVICE>_DATABASE_URL / DATABASE_URL）并用 TRAIL_KEYS "
            "（或 DATA_DIR/trail-keys）重算每条证据链，列出断链及第一条不符的记录。不需要中心在运行。",
            "read the services' stores (the SQLite files under DATA_DIR, or <SERVICE>_DATABASE_URL / "
            "DATABASE_URL) and recompute every trail with TRAIL_KEYS (or DATA_DIR/trail-keys), listing the "
            "broken ones with their first record that does not verify. The center need not run."))
    check.add_argument("--service", action="append", choices=TRAIL_SERVICES, dest="services",
                       help=bilingual("只查这个服务（可重复）", "only this service (repeatable)"))
    check.add_argument("--chain", help=bilingual("只查这条链（链键）", "only this trail (its chain key)"))
    check.set_defaults(handler=check_stores)


def verify_custody(args, session: Session) -> int:
    """`trails custody ITEM_ID`: exit 1 when the trail is broken."""
    from supervision.facilities.v1 import facilities_pb2 as pb
    from supervision.facilities.v1 import facilities_pb2_grpc as pb_grpc

    stub = pb_grpc.CustodyServiceStub(session.connection.channel("facilities"))
    result = to_dict(session.connection.call("facilities", stub.VerifyCustody,
                                             pb.VerifyCustodyRequest(item_id=args.item_id)))
    problem = result["problem"].removeprefix("TRAIL_PROBLEM_").lower() if result["intact"] is False else ""
    return _report(session, {"subject": result["item_id"], "intact": result["intact"],
                             "records_checked": result["records_checked"],
                             "broken_at": result["broken_sequence"], "problem": problem.replace("unspecified", ""),
                             "detail": result["detail"]})


def verify_audit(args, session: Session) -> int:
    """`trails audit SUBJECT`: exit 1 when the trail is broken."""
    from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
    from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as pb_grpc

    stub = pb_grpc.AuditTrailServiceStub(session.connection.channel("mobile_enforcement"))
    result = to_dict(session.connection.call("mobile_enforcement", stub.VerifyAuditTrail,
                                             pb.VerifyAuditTrailRequest(subject=args.subject)))
    return _report(session, {"subject": result["subject"], "intact": result["intact"],
                             "records_checked": result["records_checked"], "broken_at": result["broken_record"],
                             "problem": result["problem"], "detail": result["detail"]})


def _report(session: Session, result: dict) -> int:
    session.output.record(result, RESULT_FIELDS)
    return 0 if result["intact"] else 1


def check_stores(args, session: Session) -> int:
    """`trails check`: every trail of the chosen stores; exit 1 when any is broken (or --chain names none)."""
    # Imported here: the store layer takes a second to import, which the gRPC commands do not need.
    from services.cli.stores import build_runtime, existing_store, settings_from_env, store_url
    from services.common import hash_chain

    settings = settings_from_env()
    services = args.services or TRAIL_SERVICES
    rows = []
    for service in services:
        store = existing_store(store_url(service, settings, one_service=len(services) == 1), service)
        try:
            runtime = build_runtime(service, settings, store)
            with store.read() as db:
                for trail in runtime.trails:
                    for result in hash_chain.verify_trails(db, trail, runtime.trail_keys, args.chain):
                        found = result.first_break
                        rows.append({"service": service, "table": trail.model.__tablename__,
                                     "chain_key": result.chain_key, "records_checked": result.records_checked,
                                     "intact": result.intact, "broken_at": found.sequence if found else 0,
                                     "record_id": found.record_id if found else 0,
                                     "problem": found.problem if found else "",
                                     "detail": found.detail if found else ""})
        finally:
            store.dispose()
    if args.chain is not None and not rows:
        raise CommandFailed(f"没有这条证据链 · no evidence trail {args.chain!r} in {', '.join(services)}")
    broken = [row for row in rows if not row["intact"]]
    # A script gets every chain checked; a person wants the broken ones and the count.
    if session.output.json or broken:
        session.output.records(rows if session.output.json else broken, CHAIN_COLUMNS)
    if not session.output.json:
        print(f"已检查 {len(rows)} 条链，断链 {len(broken)} 条 · {len(rows)} trail(s) checked, {len(broken)} broken",
              file=session.output.out)
    return 1 if broken else 0
