"""The loopback servers the emulator starts as moto creates things (Function URLs, REST API stages).

Each thing gets its own port; whoever shows them to a person (``tscloud local
serve``) listens for new ones. Only an emulator a person uses serves them
(``Emulator.start`` sets ``enabled``), not every moto server in a process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from http.server import BaseHTTPRequestHandler
from typing import Generic, TypeVar

from tscloud_py.loopback import Loopback, serve

R = TypeVar("R")


class ServedOnLoopback(Generic[R]):
    """{key: (record, server)}, and the listeners told of every record added."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.enabled = False
        self._lock = threading.Lock()
        self._served: dict[Hashable, tuple[R, Loopback]] = {}
        self._listeners: list[Callable[[R], None]] = []

    def on_new(self, listener: Callable[[R], None]) -> None:
        """Call ``listener`` for every record served now and every one added later."""
        with self._lock:
            self._listeners.append(listener)
            current = [record for record, _ in self._served.values()]
        for record in current:
            listener(record)

    def served(self) -> list[R]:
        with self._lock:
            return [record for record, _ in self._served.values()]

    def add(self, key: Hashable, handler: type[BaseHTTPRequestHandler], record: Callable[[str], R]) -> None:
        """Serve ``handler`` for ``key`` on a free port unless it is served already; ``record(url)`` describes it."""
        with self._lock:
            if not self.enabled or key in self._served:
                return
            server = serve(handler, name=f"{self.kind}-{key}")
            made = record(server.url)
            self._served[key] = (made, server)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(made)

    def remove(self, key: Hashable) -> None:
        with self._lock:
            entry = self._served.pop(key, None)
        if entry is not None:
            entry[1].close()

    def close(self) -> None:
        """Stop every server and forget the listeners; nothing more is served until enabled again."""
        with self._lock:
            entries, self._served = list(self._served.values()), {}
            self.enabled = False
            self._listeners = []
        for _, server in entries:
            server.close()
