"""A loopback TCP proxy that can swallow the answer to the first batch it relays."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from typing import Self

BATCH_REQUEST = b"POST /api/v1/sync/batches "
CHUNK = 64 * 1024


@dataclass
class DroppingProxy:
    """Forward every byte both ways, except the first batch's answer: drop the link.

    The edge does not pipeline requests, so once a batch request has gone up a
    connection, whatever comes back on it is that batch's answer.
    """

    upstream_port: int
    dropped: threading.Event = field(default_factory=threading.Event)
    _server: socket.socket | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.getsockname()[1]}"

    def __enter__(self) -> Self:
        self._server = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()

    def _accept(self) -> None:
        assert self._server is not None
        while True:
            try:
                client, _addr = self._server.accept()
            except OSError:
                return  # closed by __exit__
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            link = _Link(client, upstream, self)
            threading.Thread(target=link.up, daemon=True).start()
            threading.Thread(target=link.down, daemon=True).start()


@dataclass
class _Link:
    client: socket.socket
    upstream: socket.socket
    proxy: DroppingProxy
    batch_sent: bool = False

    def up(self) -> None:
        while data := _recv(self.client):
            if BATCH_REQUEST in data and not self.proxy.dropped.is_set():
                self.batch_sent = True
            self.upstream.sendall(data)
        self.close()

    def down(self) -> None:
        while data := _recv(self.upstream):
            if self.batch_sent and not self.proxy.dropped.is_set():
                # The hub has answered, so it has committed: drop the answer.
                self.proxy.dropped.set()
                break
            self.client.sendall(data)
        self.close()

    def close(self) -> None:
        for sock in (self.client, self.upstream):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(CHUNK)
    except OSError:
        return b""
