"""Argument parsing with bilingual help: every help text carries Chinese first, then English.

argparse's own words (the "usage:" prefix, the section titles, -h's help and its error line) are
replaced here so a `--help` page reads in both languages whatever LANG says: operators in the
bureau read Chinese, the people who run the machines may not.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import NoReturn

USAGE_EXIT = 2


class BilingualHelpFormatter(argparse.HelpFormatter):
    """Prefixes the usage line in both languages."""

    def add_usage(self, usage, actions, groups, prefix=None):
        """The usage line, prefixed "用法 usage: "."""
        return super().add_usage(usage, actions, groups, prefix="用法 usage: " if prefix is None else prefix)


class BilingualRawFormatter(BilingualHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """The same, keeping the description's and epilog's own line breaks (the top-level page)."""


class BilingualParser(argparse.ArgumentParser):
    """An ArgumentParser whose boilerplate is bilingual and whose errors exit 2 with the usage."""

    def __init__(self, *args, **kwargs):
        kwargs["add_help"] = False
        kwargs.setdefault("formatter_class", BilingualHelpFormatter)
        super().__init__(*args, **kwargs)
        self._positionals.title = "参数 arguments"
        self._optionals.title = "选项 options"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                          help="显示本帮助并退出 · show this help and exit")

    def error(self, message: str) -> NoReturn:
        """A usage error: the usage line and the problem on stderr, exit status 2."""
        self.print_usage(sys.stderr)
        self.exit(USAGE_EXIT, f"{self.prog}: 用法错误 usage error: {message}\n")


def bilingual(chinese: str, english: str) -> str:
    """One help text in both languages."""
    return f"{chinese} · {english}"


def iso_date(text: str) -> dt.date:
    """An argparse type: YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期应为 YYYY-MM-DD · expected a date YYYY-MM-DD, got {text!r}") from None


def positive_int(text: str) -> int:
    """An argparse type: a whole number ≥ 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"应为正整数 · expected a whole number ≥ 1, got {text!r}")
    return value


def positive_seconds(text: str) -> float:
    """An argparse type: a number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"应为正数秒 · expected seconds > 0, got {text!r}")
    return value


def choice_of(mapping: dict[str, object], chinese: str, english: str):
    """An argparse type accepting the keys of `mapping` (case-insensitive, '-' or '_') and returning
    the value; a wrong one lists every accepted key."""

    def parse(text: str):
        key = text.strip().lower().replace("_", "-")
        for candidate, value in mapping.items():
            if candidate.lower().replace("_", "-") == key:
                return value
        raise argparse.ArgumentTypeError(f"未知的{chinese} · unknown {english} {text!r}; "
                                         f"one of: {', '.join(mapping)}")

    return parse
