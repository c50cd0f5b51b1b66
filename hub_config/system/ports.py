"""Ports on this machine: one free for an internal listener, or the public one checked before the hub starts."""

from __future__ import annotations

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
