"""The unit suite's guard (tests/unit/conftest.py) refuses what would need a server."""

from __future__ import annotations

import socket
import subprocess
import sys

import grpc
import pytest

from tests.unit.conftest import ServerReached


def test_a_network_connection_is_refused_naming_the_address():
    with pytest.raises(ServerReached, match="5432"):
        socket.create_connection(("127.0.0.1", 5432), timeout=1)


def test_listening_on_a_port_is_refused():
    with socket.socket() as sock, pytest.raises(ServerReached, match="bound"):
        sock.bind(("127.0.0.1", 0))


def test_grpc_servers_channels_and_subprocesses_are_refused():
    with pytest.raises(ServerReached, match="gRPC server"):
        grpc.server(None)
    with pytest.raises(ServerReached, match="gRPC channel"):
        grpc.insecure_channel("localhost:50051")
    with pytest.raises(ServerReached, match="subprocess"):
        subprocess.run([sys.executable, "-c", "pass"], check=True)


def test_a_local_socket_pair_still_works():
    left, right = socket.socketpair()
    with left, right:
        left.sendall(b"x")
        assert right.recv(1) == b"x"
