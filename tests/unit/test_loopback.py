"""loopback.serve and the emulator's registry of served things (emulator/served.py), on real sockets."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from tscloud_py.emulator.served import ServedOnLoopback
from tscloud_py.loopback import QuietHandler, serve


class Hello(QuietHandler):
    def do_GET(self) -> None:
        body = f"hello {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return str(resp.read().decode())


def test_serve_answers_on_a_free_loopback_port_until_closed() -> None:
    server = serve(Hello, name="hello")
    assert server.host == "127.0.0.1" and server.port > 0
    assert server.url == f"http://127.0.0.1:{server.port}/"
    assert get(server.url + "x") == "hello /x"
    server.close()
    with pytest.raises(urllib.error.URLError):
        get(server.url)


def test_the_registry_serves_only_when_enabled_and_tells_every_listener() -> None:
    registry: ServedOnLoopback[tuple[str, str]] = ServedOnLoopback("test")
    registry.add("a", Hello, lambda url: ("a", url))
    assert registry.served() == []  # not enabled: a moto server in a test process serves nothing

    registry.enabled = True
    registry.add("a", Hello, lambda url: ("a", url))
    registry.add("a", Hello, lambda url: ("again", url))  # one server per key
    seen: list[tuple[str, str]] = []
    registry.on_new(seen.append)  # told of what is served already
    registry.add("b", Hello, lambda url: ("b", url))  # and of what comes later
    assert [name for name, _ in seen] == ["a", "b"]
    urls = dict(registry.served())
    assert get(urls["a"]) == "hello /" and get(urls["b"]) == "hello /"

    registry.remove("a")
    with pytest.raises(urllib.error.URLError):
        get(urls["a"])
    assert [name for name, _ in registry.served()] == ["b"]

    registry.close()
    assert registry.served() == [] and not registry.enabled
    with pytest.raises(urllib.error.URLError):
        get(urls["b"])
