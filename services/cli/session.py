"""What every command gets: the connection to the center and the output."""

from __future__ import annotations

from dataclasses import dataclass

from services.cli.connection import Connection
from services.cli.output import Output


@dataclass
class Session:
    """The connection to the center and where and how results are printed."""

    connection: Connection
    output: Output
