"""The wire format between CocotbBackend (the harness process) and the cocotb driver (the simulator process).

One request, one reply, over a Unix socket. A frame is a 4-byte little-endian length, a UTF-8
JSON header of that length, then `header["nbytes"]` bytes of raw payload (state rows, DRAM
bytes; absent when 0). JSON and raw bytes only: no pickle crosses the boundary.

Requests (`op`): reset, load {program}, serial {on}, next {budget}, read {state, start, stop},
quiescent, close. Every reply carries `cycle` (the driver's harness-owned cycle counter) and,
on failure, `error` (a message naming the bad value).
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

_LEN = struct.Struct("<I")


class ProtocolError(ConnectionError):
    """The other side closed the connection or sent a malformed frame."""


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks = []
    while n:
        chunk = sock.recv(min(n, 1 << 20))
        if not chunk:
            raise ProtocolError("the cocotb simulator process closed the connection")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def send(sock: socket.socket, header: dict[str, Any], payload: bytes = b"") -> None:
    """Send one frame."""
    body = json.dumps({**header, "nbytes": len(payload)}).encode()
    sock.sendall(_LEN.pack(len(body)) + body + payload)


def recv(sock: socket.socket) -> tuple[dict[str, Any], bytes]:
    """Receive one frame: (header, payload)."""
    (length,) = _LEN.unpack(_recv_exact(sock, _LEN.size))
    try:
        header = json.loads(_recv_exact(sock, length).decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"malformed frame header: {exc}") from None
    if not isinstance(header, dict):
        raise ProtocolError(f"frame header {header!r}: expected a JSON object")
    nbytes = int(header.get("nbytes", 0))
    return header, _recv_exact(sock, nbytes) if nbytes else b""
