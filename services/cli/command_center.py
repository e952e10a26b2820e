"""Commands on command_center: offices, officers, the duty list (事权清单) and supervision tasks (督办)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from google.type import date_pb2

from services.cli.connection import UsageError, join_filter, list_all, new_request_id, quoted
from services.cli.output import enum_label, to_dict
from services.cli.parsing import bilingual, choice_of, iso_date, positive_int
from services.cli.session import Session
from supervision.command_center.v1 import command_center_pb2 as pb
from supervision.command_center.v1 import command_center_pb2_grpc as pb_grpc

SERVICE = "command_center"

GROUPS = {
    "general": pb.GROUP_KIND_GENERAL, "综合组": pb.GROUP_KIND_GENERAL,
    "supervision": pb.GROUP_KIND_SUPERVISION, "监管组": pb.GROUP_KIND_SUPERVISION,
    "case-handling": pb.GROUP_KIND_CASE_HANDLING, "办案组": pb.GROUP_KIND_CASE_HANDLING,
    "complaint-handling": pb.GROUP_KIND_COMPLAINT_HANDLING, "申投诉处理组": pb.GROUP_KIND_COMPLAINT_HANDLING,
}
TASK_STATES = {"assigned": "TASK_STATE_ASSIGNED", "accepted": "TASK_STATE_ACCEPTED",
               "in-progress": "TASK_STATE_IN_PROGRESS", "completed": "TASK_STATE_COMPLETED"}
DUTY_FORMATS = {"csv": pb.DUTY_FILE_FORMAT_CSV, "yaml": pb.DUTY_FILE_FORMAT_YAML, "yml": pb.DUTY_FILE_FORMAT_YAML}

OFFICE_COLUMNS = [
    ("编号 id", lambda o: o["id"]),
    ("名称 name", lambda o: o["name"]),
    ("辖区 district", lambda o: o["district"]),
    ("街镇 streets", lambda o: o["streets"]),
    ("人员 officers", lambda o: sum(g.get("officer_count", 0) for g in o["groups"])),
    ("持证 certified", lambda o: sum(g.get("certified_count", 0) for g in o["groups"])),
]
OFFICE_FIELDS = [*OFFICE_COLUMNS[:4],
                 ("分组 groups", lambda o: [f"{g['name']} {g['certified_count']}/{g['officer_count']}"
                                           for g in o["groups"]]),
                 ("版本 version", lambda o: o["version"]),
                 ("更新 updated", lambda o: o.get("update_time", ""))]
OFFICER_COLUMNS = [
    ("编号 id", lambda o: o["id"]),
    ("姓名 name", lambda o: o["name"]),
    ("所 office", lambda o: o["office_id"]),
    ("分组 group", lambda o: enum_label(o["group"], "GROUP_KIND_")),
    ("执法证 certificate", lambda o: o["certificate_no"]),
    ("有效期 expires", lambda o: o.get("certificate_expires")),
    ("有效 valid", lambda o: o["certificate_valid"]),
]
DUTY_COLUMNS = [
    ("编码 code", lambda d: d["code"]),
    ("事项 title", lambda d: d["title"]),
    ("类别 category", lambda d: d["category"]),
    ("层级 level", lambda d: enum_label(d["responsible_level"], "RESPONSIBLE_LEVEL_")),
    ("分组 group", lambda d: enum_label(d["group"], "GROUP_KIND_")),
]
TASK_COLUMNS = [
    ("编号 id", lambda t: t["id"]),
    ("所 office", lambda t: t["office_id"]),
    ("标题 title", lambda t: t["title"]),
    ("状态 state", lambda t: enum_label(t["state"], "TASK_STATE_")),
    ("期限 due", lambda t: t.get("due_date")),
    ("逾期 overdue", lambda t: t["overdue"]),
    ("来源 source", lambda t: t["source"]),
]


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Adds `offices`, `officers`, `duties` and `tasks` to the command line."""
    _offices(commands, common)
    _officers(commands, common)
    _duties(commands, common)
    _tasks(commands, common)


def _list_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--filter", help=bilingual("附加过滤条件（服务的语法，原样传递，与上面的条件以 AND 连接）",
                                                   "a further filter in the service's syntax, passed as is and "
                                                   "joined to the flags' conditions by AND"))
    parser.add_argument("--limit", type=positive_int, help=bilingual("最多显示条数（默认全部）",
                                                                     "at most this many (default: all)"))


def _offices(commands, common) -> None:
    offices = commands.add_parser("offices", parents=[common], help=bilingual("监管所", "market supervision offices"),
                                  description=bilingual("监管所：列表、详情、新建", "offices: list, show, create"))
    actions = offices.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", parents=[common], help=bilingual("列出监管所", "list offices"),
                                 description=bilingual("列出监管所", "list offices"))
    listing.add_argument("--district", help=bilingual("按辖区", "only this district"))
    listing.add_argument("--street", help=bilingual("按街镇", "only the office covering this street"))
    _list_options(listing)
    listing.set_defaults(handler=list_offices)
    show = actions.add_parser("show", parents=[common], help=bilingual("查看一个监管所", "show one office"),
                              description=bilingual("查看一个监管所", "show one office"))
    show.add_argument("id", help=bilingual("所编号，如 MH01", "office id, e.g. MH01"))
    show.set_defaults(handler=show_office)
    create = actions.add_parser("create", parents=[common], help=bilingual("新建监管所", "create an office"),
                                description=bilingual("新建监管所（重试时用同一 --request-id 不会重复创建）",
                                                      "create an office (a retry with the same --request-id "
                                                      "creates nothing twice)"))
    create.add_argument("--id", required=True, help=bilingual("所编号：字母、数字和 -，最多 32 位",
                                                              "office id: letters, digits and '-', at most 32"))
    create.add_argument("--name", required=True, help=bilingual("名称", "name, e.g. 莘庄市场监督管理所"))
    create.add_argument("--district", required=True, help=bilingual("辖区", "district, e.g. 闵行区"))
    create.add_argument("--street", action="append", required=True, dest="streets", metavar="STREET",
                        help=bilingual("所辖街镇（可重复）", "a street (街镇) it covers; repeat for several"))
    create.add_argument("--request-id", help=bilingual("请求编号，默认随机生成", "request id; a new one by default"))
    create.set_defaults(handler=create_office)


def list_offices(args, session: Session) -> int:
    """`offices list`."""
    terms = [f"district = {quoted(args.district)}"] if args.district else []
    terms += [f"street = {quoted(args.street)}"] if args.street else []
    stub = pb_grpc.OfficeServiceStub(session.connection.channel(SERVICE))
    text = join_filter(terms, args.filter)
    offices = list_all(session.connection, SERVICE, stub.ListOffices,
                       lambda **page: pb.ListOfficesRequest(filter=text, **page), "offices", limit=args.limit)
    session.output.records([to_dict(o) for o in offices], OFFICE_COLUMNS)
    return 0


def show_office(args, session: Session) -> int:
    """`offices show ID`."""
    stub = pb_grpc.OfficeServiceStub(session.connection.channel(SERVICE))
    office = session.connection.call(SERVICE, stub.GetOffice, pb.GetOfficeRequest(id=args.id))
    session.output.record(to_dict(office), OFFICE_FIELDS)
    return 0


def create_office(args, session: Session) -> int:
    """`offices create`."""
    stub = pb_grpc.OfficeServiceStub(session.connection.channel(SERVICE))
    office = pb.Office(id=args.id, name=args.name, district=args.district, streets=args.streets)
    created = session.connection.call(SERVICE, stub.CreateOffice, pb.CreateOfficeRequest(
        request_id=args.request_id or new_request_id(), office=office))
    session.output.record(to_dict(created), OFFICE_FIELDS)
    return 0


def _officers(commands, common) -> None:
    officers = commands.add_parser("officers", parents=[common], help=bilingual("执法人员", "officers"),
                                   description=bilingual("执法人员：列表、登记", "officers: list, register"))
    actions = officers.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", parents=[common], help=bilingual("列出执法人员", "list officers"),
                                 description=bilingual("列出执法人员", "list officers"))
    listing.add_argument("--office", help=bilingual("按所编号", "only this office's"))
    listing.add_argument("--group", type=choice_of(GROUPS, "分组", "group"),
                         help=bilingual("按分组", "only this group: " + ", ".join(GROUPS)))
    valid = listing.add_mutually_exclusive_group()
    valid.add_argument("--certified", dest="certified", action="store_const", const=True,
                       help=bilingual("只看执法证有效的", "only those whose certificate is valid today"))
    valid.add_argument("--uncertified", dest="certified", action="store_const", const=False,
                       help=bilingual("只看无有效执法证的", "only those without a valid certificate"))
    _list_options(listing)
    listing.set_defaults(handler=list_officers)
    register_ = actions.add_parser("register", parents=[common], help=bilingual("登记执法人员", "register an officer"),
                                   description=bilingual("登记执法人员（重试时用同一 --request-id 不会重复登记）",
                                                         "register an officer (a retry with the same --request-id "
                                                         "registers nothing twice)"))
    register_.add_argument("--id", required=True, help=bilingual("人员编号", "officer id"))
    register_.add_argument("--name", required=True, help=bilingual("姓名", "name"))
    register_.add_argument("--office", required=True, help=bilingual("所编号", "office id"))
    register_.add_argument("--group", required=True, type=choice_of(GROUPS, "分组", "group"),
                           help=bilingual("分组", "group: " + ", ".join(GROUPS)))
    register_.add_argument("--certificate-no", default="", help=bilingual("执法证号", "enforcement certificate number"))
    register_.add_argument("--certificate-expires", type=iso_date,
                           help=bilingual("执法证有效期至 YYYY-MM-DD", "certificate valid until YYYY-MM-DD"))
    register_.add_argument("--request-id", help=bilingual("请求编号，默认随机生成", "request id; a new one by default"))
    register_.set_defaults(handler=register_officer)


def list_officers(args, session: Session) -> int:
    """`officers list`."""
    terms = [f"office_id = {quoted(args.office)}"] if args.office else []
    terms += [f"group = {pb.GroupKind.Name(args.group)}"] if args.group else []
    terms += [f"certificate_valid = {str(args.certified).lower()}"] if args.certified is not None else []
    text = join_filter(terms, args.filter)
    stub = pb_grpc.OfficerServiceStub(session.connection.channel(SERVICE))
    officers = list_all(session.connection, SERVICE, stub.ListOfficers,
                        lambda **page: pb.ListOfficersRequest(filter=text, **page), "officers", limit=args.limit)
    session.output.records([to_dict(o) for o in officers], OFFICER_COLUMNS)
    return 0


def register_officer(args, session: Session) -> int:
    """`officers register`."""
    officer = pb.Officer(id=args.id, name=args.name, office_id=args.office, group=args.group,
                         certificate_no=args.certificate_no)
    if args.certificate_expires:
        officer.certificate_expires.CopyFrom(_date(args.certificate_expires))
    stub = pb_grpc.OfficerServiceStub(session.connection.channel(SERVICE))
    registered = session.connection.call(SERVICE, stub.RegisterOfficer, pb.RegisterOfficerRequest(
        request_id=args.request_id or new_request_id(), officer=officer))
    session.output.record(to_dict(registered), OFFICER_COLUMNS)
    return 0


def _duties(commands, common) -> None:
    duties = commands.add_parser(
        "duties", parents=[common], help=bilingual("事权清单", "the duty list"),
        description=bilingual("事权清单：导入文件、列表", "the duty list: import a file, list"))
    actions = duties.add_subparsers(dest="action", required=True, metavar="ACTION")
    load = actions.add_parser(
        "import", parents=[common], help=bilingual("导入事权清单文件", "import a duty list file"),
        description=bilingual(
            "导入事权清单（CSV 或 YAML，UTF-8）。先检查全部行：有一行错误则整个文件不导入，并列出每个错误行。",
            "import the duty list (CSV or YAML, UTF-8). Every row is checked first: one bad row refuses the "
            "whole file and the error lists every bad row.\nCSV columns: code,title,category,legal_basis,"
            "responsible_level,group"))
    load.add_argument("file", type=Path, help=bilingual("文件路径", "the file"))
    load.add_argument("--format", type=choice_of(DUTY_FORMATS, "格式", "format"),
                      help=bilingual("csv 或 yaml（默认按扩展名）", "csv or yaml (default: from the file's extension)"))
    load.add_argument("--replace", action="store_true",
                      help=bilingual("替换整个清单（文件中没有的事项被删除）；默认按编码合并",
                                     "replace the whole list (items absent from the file are removed); "
                                     "by default merge by code"))
    load.add_argument("--request-id", help=bilingual("请求编号，默认随机生成", "request id; a new one by default"))
    load.set_defaults(handler=import_duties)
    listing = actions.add_parser("list", parents=[common], help=bilingual("列出事权事项", "list duty items"),
                                 description=bilingual("列出事权事项", "list duty items"))
    listing.add_argument("--category", help=bilingual("按类别", "only this category, e.g. 食品安全"))
    _list_options(listing)
    listing.set_defaults(handler=list_duties)


def import_duties(args, session: Session) -> int:
    """`duties import FILE`."""
    file_format = args.format or DUTY_FORMATS.get(args.file.suffix.lower().lstrip("."))
    if file_format is None:
        raise UsageError(f"无法从扩展名判断格式，请用 --format · cannot tell the format of {args.file.name!r} "
                         "from its extension: give --format csv|yaml")
    try:
        content = args.file.read_bytes()
    except OSError as error:
        raise UsageError(f"无法读取文件 · cannot read {str(args.file)!r}: {error.strerror or error}") from None
    stub = pb_grpc.DutyListServiceStub(session.connection.channel(SERVICE))
    result = session.connection.call(SERVICE, stub.ImportDutyList, pb.ImportDutyListRequest(
        request_id=args.request_id or new_request_id(), format=file_format, content=content, replace=args.replace))
    session.output.record(to_dict(result), [("导入 imported", lambda r: r["imported_count"]),
                                          ("合计 total", lambda r: r["total_count"])])
    return 0


def list_duties(args, session: Session) -> int:
    """`duties list`."""
    text = join_filter([f"category = {quoted(args.category)}"] if args.category else [], args.filter)
    stub = pb_grpc.DutyListServiceStub(session.connection.channel(SERVICE))
    items = list_all(session.connection, SERVICE, stub.ListDutyItems,
                     lambda **page: pb.ListDutyItemsRequest(filter=text, **page), "items", limit=args.limit)
    session.output.records([to_dict(i) for i in items], DUTY_COLUMNS)
    return 0


def _tasks(commands, common) -> None:
    tasks = commands.add_parser(
        "tasks", parents=[common], help=bilingual("督办任务", "supervision tasks"),
        description=bilingual("督办任务：列表（可过滤）", "supervision tasks: list with filters"))
    actions = tasks.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", parents=[common], help=bilingual("列出督办任务", "list tasks"),
                                 description=bilingual("列出督办任务；多个条件同时满足",
                                                       "list tasks; every condition given must hold"))
    listing.add_argument("--office", help=bilingual("按所编号", "only this office's"))
    listing.add_argument("--state", type=choice_of(TASK_STATES, "状态", "state"),
                         help=bilingual("按状态", "only in this state: " + ", ".join(TASK_STATES)))
    overdue = listing.add_mutually_exclusive_group()
    overdue.add_argument("--overdue", dest="overdue", action="store_const", const=True,
                         help=bilingual("只看逾期的", "only overdue tasks"))
    overdue.add_argument("--not-overdue", dest="overdue", action="store_const", const=False,
                         help=bilingual("只看未逾期的", "only tasks not overdue"))
    listing.add_argument("--source", help=bilingual("按来源", "only from this source, e.g. bureau, complaints.overdue"))
    _list_options(listing)
    listing.set_defaults(handler=list_tasks)


def list_tasks(args, session: Session) -> int:
    """`tasks list`."""
    terms = [f"office_id = {quoted(args.office)}"] if args.office else []
    terms += [f"state = {args.state}"] if args.state else []
    terms += [f"overdue = {str(args.overdue).lower()}"] if args.overdue is not None else []
    terms += [f"source = {quoted(args.source)}"] if args.source else []
    text = join_filter(terms, args.filter)
    stub = pb_grpc.TaskServiceStub(session.connection.channel(SERVICE))
    tasks = list_all(session.connection, SERVICE, stub.ListTasks,
                     lambda **page: pb.ListTasksRequest(filter=text, **page), "tasks", limit=args.limit)
    session.output.records([to_dict(t) for t in tasks], TASK_COLUMNS)
    return 0


def _date(day: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=day.year, month=day.month, day=day.day)
