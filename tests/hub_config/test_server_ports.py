"""Servers' ports (hub_config/system/ports.py): below the ephemeral range, where a kernel's or a
connection's bind to port 0 never lands, and never one port to two servers at once."""

from __future__ import annotations

import socket

from hub_config.system.ports import SERVER_PORTS, ServerPorts


def ephemeral_range() -> range:
    low, high = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
    return range(low, high + 1)


def test_server_ports_are_outside_the_ephemeral_range_and_given_once():
    assert not set(SERVER_PORTS) & set(ephemeral_range())
    ports = ServerPorts(range(SERVER_PORTS.start, SERVER_PORTS.start + 300))
    given = [ports.take("127.0.0.1") for _ in range(150)]
    assert len(set(given)) == 150 and all(p in SERVER_PORTS for p in given)
    ports.give_back(given[0])
    assert given[0] not in ports._given


def test_a_port_something_else_listens_on_is_not_given():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        ports = ServerPorts(range(port, port + 1))
        assert ports.take("127.0.0.1") != port  # the one port is busy: JupyterHub's own way instead
