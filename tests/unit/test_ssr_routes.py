"""Route discovery for `ssr doctor` and `ssr verify`: the route tables Nitro and TanStack Start write, as they write them.

The bundle texts below are the shapes of real builds (tests/runtime runs the real ones): Nitro 3's
compiled findRoute objects (minified and not), nitropack 2's handlers array with middleware and a
method-bound route, and TanStack Start's router manifest with nested, pathless and dynamic routes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tscloud_py.build.nitro import read_nitro_build
from tscloud_py.build.routes import Request, discover, parse_probe, sample
from tscloud_py.config.dotenv import read_dotenv
from tscloud_py.errors import UsageError

NITRO3_MIN = ('const findRoute=(()=>{const $0={route:"/users/:id",handler:_lazy_a},$1={route:"/",handler:_lazy_b},'
              '$2={route:"/api/items",method:"POST",handler:_lazy_c},$3={route:"/docs/**:slug",handler:_lazy_d},'
              '$4={route:"/about",handler:_lazy_e};return (m,p)=>{}})();\nexport const handler = () => {};\n')
NITROPACK2 = """const handlers = [
  { route: '', handler: _f4b49z, lazy: false, middleware: true, method: undefined },
  { route: '/health', handler: _lazy_a, lazy: true, middleware: false, method: undefined },
  { route: '/api/login', handler: _lazy_b, lazy: true, middleware: false, method: "post" },
  { route: '/**', handler: _lazy_c, lazy: true, middleware: false, method: undefined }
];
export { handler };
"""
TANSTACK_INDEX = """const findRoute = (() => { const $0 = { route: "/**", handler: _lazy_ssr }; return (m, p) => ({ data: $0 }); })();
export { handler };
"""
TANSTACK_MANIFEST = """var tsrStartManifest = () => ({ routes: {
\t__root__: { filePath: "/app/src/routes/__root.tsx", children: ["/", "/_authed", "/posts", "/(marketing)/pricing"] },
\t"/_authed": { children: ["/_authed/dashboard"] },
\t"/posts": { children: ["/posts/$postId", "/posts/"] }
} });
export { tsrStartManifest };
"""


def make_build(root: Path, files: dict[str, str], public: tuple[str, ...] = ()) -> Path:
    (root / "server").mkdir(parents=True)
    (root / "nitro.json").write_text(json.dumps({"preset": "aws-lambda", "config": {"awsLambda": {"streaming": True}}}))
    for rel, text in files.items():
        (root / "server" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "server" / rel).write_text(text)
    for rel in public:
        (root / "public" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "public" / rel).write_text("x")
    return root


def test_nitro3_route_table_with_a_dynamic_segment_and_a_method(tmp_path: Path) -> None:
    found = discover(read_nitro_build(make_build(tmp_path, {"index.mjs": NITRO3_MIN}, public=("about/index.html",))))
    assert [(r.pattern, r.method) for r in found.routes] == [
        ("/users/:id", "GET"), ("/", "GET"), ("/api/items", "POST"), ("/docs/**:slug", "GET"), ("/about", "GET")]
    assert {r.source for r in found.routes} == {"server/index.mjs"}
    assert found.requests == [Request("GET", "/users/1", "/users/:id"), Request("GET", "/"),
                              Request("GET", "/docs/sample", "/docs/**:slug")]
    assert found.requests[0].sampled and not found.requests[1].sampled
    skipped = dict(found.skipped)
    assert "--probe 'POST /api/items'" in skipped["POST /api/items"]
    assert "prerendered" in skipped["/about"]


def test_nitropack2_handlers_skip_middleware(tmp_path: Path) -> None:
    found = discover(read_nitro_build(make_build(tmp_path, {"index.mjs": NITROPACK2})))
    assert [(r.pattern, r.method) for r in found.routes] == [("/health", "GET"), ("/api/login", "POST"), ("/**", "GET")]
    assert [r.label for r in found.requests] == ["GET /health", "GET /"]


def test_tanstack_manifest_replaces_nitros_catch_all(tmp_path: Path) -> None:
    build = make_build(tmp_path, {"index.mjs": TANSTACK_INDEX, "_tanstack-start-manifest_v-x.mjs": TANSTACK_MANIFEST,
                                  "_ssr/ssr.mjs": "import { tsrStartManifest } from '../m.mjs'; children: ['/x']"},
                       public=("assets/app.js",))
    found = discover(read_nitro_build(build))
    assert [r.label for r in found.requests] == ["GET /", "GET /posts", "GET /pricing", "GET /dashboard",
                                                 "GET /posts/1"]
    assert found.requests[-1].pattern == "/posts/$postId"
    assert found.routes[0].source == "server/_tanstack-start-manifest_v-x.mjs"


def test_a_build_without_a_route_table_is_probed_at_the_root(tmp_path: Path) -> None:
    found = discover(read_nitro_build(make_build(tmp_path, {"index.mjs": "export const handler = () => {};\n"})))
    assert found.routes == [] and found.requests == [Request("GET", "/")]


@pytest.mark.parametrize(("pattern", "path"), [
    ("/users/:id", "/users/1"), ("/blog/**", "/blog/sample"), ("/**", "/"), ("/posts/$postId", "/posts/1"),
    ("/files/$", "/files/sample"), ("/_layout/a/{-$lang}", "/a"), ("/(group)/b", "/b"), ("/p/[id]", "/p/1"),
    ("/a/[...slug]", "/a/sample"), ("/plain", "/plain"),
])
def test_sample_values(pattern: str, path: str) -> None:
    assert sample(pattern) == path


def test_parse_probe() -> None:
    assert parse_probe("/dbtext?query=1") == Request("GET", "/dbtext?query=1", given=True)
    assert parse_probe("post /api/items") == Request("POST", "/api/items", given=True)
    for bad in ("dbtext", "FETCH /x", "GET /x extra"):
        with pytest.raises(ValueError):
            parse_probe(bad)


def test_dotenv(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text('# dev\nexport DATABASE_URL="postgres://u:p@127.0.0.1/app"\nA=1 # note\nB=\'x #y\'\n\nC="l1\\nl2"\n')
    assert read_dotenv(env) == {"DATABASE_URL": "postgres://u:p@127.0.0.1/app", "A": "1", "B": "x #y", "C": "l1\nl2"}
    env.write_text("A=1\nnot a line\n")
    with pytest.raises(UsageError, match=r"--env-file .*\.env:2: expected KEY=VALUE"):
        read_dotenv(env)
    env.write_text('A="open\n')
    with pytest.raises(UsageError, match=r":1: A: the quoted value is not closed"):
        read_dotenv(env)
    with pytest.raises(UsageError, match="cannot read it"):
        read_dotenv(tmp_path / "missing.env")
