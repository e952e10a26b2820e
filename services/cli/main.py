"""The `supervision` command: parses the command line, runs one command, maps failures to exit statuses.

Exit statuses: 0 done; 1 the command failed (a gRPC error, shown with its status code and field
violations; a broken trail; a demo loader that failed); 2 a usage error (bad flags or values, a
file that cannot be read, a bad setting); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys

from services.cli import assessment, command_center, demo, trails
from services.cli.connection import CallFailed, CommandFailed, Connection, UsageError
from services.cli.output import Output
from services.cli.parsing import USAGE_EXIT, BilingualParser, BilingualRawFormatter, bilingual, positive_seconds
from services.cli.session import Session

DESCRIPTION = """智慧监管云中心运维命令行 · the smart supervision cloud center's operator command line

通过 gRPC 操作运行中的中心（默认单体模式端口），或直接操作各服务的库（demo load、trails check）。
Works on a running center over gRPC (the monolith's ports by default), or on the services' stores
(demo load, trails check).

环境变量 environment: SUPERVISION_HOST, SUPERVISION_ADDRESSES (service=host:port,...),
SUPERVISION_TOKEN (AUTH_MODE=jwt); DATA_DIR, DATABASE_URL, <SERVICE>_DATABASE_URL, TRAIL_KEYS.
退出码 exit status: 0 成功 done, 1 失败 failed, 2 用法错误 usage error."""

EPILOG = """示例 examples:
  supervision offices list
  supervision tasks list --office MH01 --overdue --json
  supervision --address command_center=10.0.0.5:50051 officers list --office MH01
  supervision duties import duties.csv --replace
  supervision periods close 2026-Q3
  supervision trails check
  supervision demo load"""


def common_options(*, top_level: bool) -> argparse.ArgumentParser:
    """The options every command takes, before or after the command's name. Below the top level
    their defaults are SUPPRESS, so an option given before the command is not reset after it."""
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("通用选项 common options")

    def default(value):
        return value if top_level else argparse.SUPPRESS

    group.add_argument("--json", action="store_true", default=default(False),
                       help=bilingual("输出 JSON（供脚本使用）", "print JSON, for scripts"))
    group.add_argument("--host", default=default(None),
                       help=bilingual("各服务所在主机，使用单体端口（默认 localhost）",
                                      "host of every service on the monolith's ports (default: localhost, "
                                      "SUPERVISION_HOST)"))
    group.add_argument("--address", action="append", default=default([]), metavar="SERVICE=HOST:PORT",
                       help=bilingual("某个服务的地址（可重复）", "one service's address (repeatable; "
                                      "SUPERVISION_ADDRESSES)"))
    group.add_argument("--token", default=default(None),
                       help=bilingual("JWT 令牌（AUTH_MODE=jwt 时需要）", "JWT for AUTH_MODE=jwt (SUPERVISION_TOKEN)"))
    group.add_argument("--timeout", type=positive_seconds, default=default(30.0), metavar="SECONDS",
                       help=bilingual("每次调用的超时秒数", "deadline of each call in seconds (default 30)"))
    return parser


def build_parser() -> BilingualParser:
    """The whole command line."""
    parser = BilingualParser(prog="supervision", description=DESCRIPTION, epilog=EPILOG,
                             parents=[common_options(top_level=True)], formatter_class=BilingualRawFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=BilingualParser,
                                     title="命令 commands")
    common = common_options(top_level=False)
    for module in (command_center, trails, assessment, demo):
        module.register(commands, common)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Runs one command and exits with its status."""
    # SIGTERM (a stopped job, a container's end) stops a command as Ctrl-C does: transactions roll
    # back and stores close, so an interrupted `demo load` is resumed by the next one.
    signal.signal(signal.SIGTERM, _interrupt)
    sys.exit(run(argv))


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def run(argv: list[str] | None = None, out=None, err=None) -> int:
    """Runs one command; returns the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    args = parser.parse_args(argv)
    output = Output(json=args.json, out=out)
    try:
        connection = Connection.from_options(args.host, args.address, args.token, args.timeout)
    except UsageError as error:
        parser.error(str(error))
    try:
        return args.handler(args, Session(connection, output))
    except UsageError as error:
        print(f"supervision: 用法错误 usage error: {error}", file=err)
        return USAGE_EXIT
    except CallFailed as failure:
        if args.json:
            print(json.dumps(failure.as_json(), ensure_ascii=False), file=err)
        else:
            print(failure.as_text(), file=err)
        return 1
    except CommandFailed as failure:
        print(f"错误 error: {failure}", file=err)
        return 1
    except KeyboardInterrupt:
        print("supervision: 已中断 interrupted", file=err)
        return 130
    finally:
        connection.close()
