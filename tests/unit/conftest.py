"""tests/unit runs with no server of any kind: a unit test that reaches for the network, a gRPC
server or a subprocess fails here, naming what it reached for, instead of passing on a machine where
the servers happen to run (such a test belongs in tests/integration)."""

from __future__ import annotations

import socket
import subprocess

import grpc
import pytest


class ServerReached(AssertionError):
    """A unit test reached outside its process."""


def _refuse(what: str):
    def refuse(*args, **kwargs):
        raise ServerReached(f"tests/unit uses no server: this test {what} (move it to tests/integration)")
    return refuse


@pytest.fixture(autouse=True)
def no_servers(monkeypatch):
    """Network sockets, gRPC servers and channels, and subprocesses are refused for the test's length."""
    real_connect, real_bind = socket.socket.connect, socket.socket.bind

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise ServerReached(f"tests/unit uses no server: this test connected to {address!r}")
        return real_connect(self, address)

    def bind(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise ServerReached(f"tests/unit uses no server: this test bound {address!r}")
        return real_bind(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect)
    monkeypatch.setattr(socket.socket, "bind", bind)
    monkeypatch.setattr(grpc, "server", _refuse("started a gRPC server"))
    monkeypatch.setattr(grpc, "insecure_channel", _refuse("opened a gRPC channel"))
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("started a subprocess"))
