"""Ports on this machine: one free for an internal listener, or the public one checked before the hub starts."""

from __future__ import annotations

import random
import socket

from hub_config.site.errors import LaunchError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def check_port_free(ip: str, port: int) -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((ip, port))
        except OSError as err:
            raise LaunchError(
                f"Cổng {port} trên {ip} đang được dùng bởi một chương trình khác.",
                f"Port {port} on {ip} is in use by another program ({err.strerror}). "
                f"Stop that program, or start on another port: stemlab up --port {port + 1}"
            ) from err


# Students' servers listen below Linux's ephemeral range (32768-60999 by default), where every
# bind to port 0 lands: kernels' sockets, outgoing connections. A port picked there and handed to
# a starting server was, in a login storm, now and then taken by another student's kernel first:
# the server could not start and the hub waited 30 s on a kernel's socket.
SERVER_PORTS = range(20000, 32000)


class ServerPorts:
    """Ports for servers, none handed out twice by this hub while its server lives."""

    def __init__(self, ports: range = SERVER_PORTS):
        self.ports = ports
        self._given: set[int] = set()

    def take(self, ip: str) -> int:
        for port in random.sample(self.ports, min(200, len(self.ports))):
            if port in self._given:
                continue
            with socket.socket() as s:
                try:
                    s.bind((ip or "127.0.0.1", port))
                except OSError:
                    continue
            self._given.add(port)
            return port
        return free_port()  # a crowded range: JupyterHub's own way

    def give_back(self, port: int) -> None:
        self._given.discard(port)
