"""The routes a Nitro build serves, read from the build itself, and the requests that exercise them.

Two sources, both written by the build:

- Nitro's route table in the server bundle: ``{ route: "/db", handler: _lazy_x, method: ... }`` objects
  (Nitro 3's compiled ``findRoute``, nitropack 2's ``handlers`` array; middleware entries excluded);
- TanStack Start's router manifest (``tsrStartManifest``): the route ids under ``__root__``'s children,
  which Nitro itself only sees as one catch-all ``/**``.

Routes served from the build's ``public/`` (prerendered pages, assets) are excluded: on Lambda they are
files behind CloudFront and never reach the function. A dynamic segment gets a sample value
(``/users/:id`` and ``/users/$id`` become ``/users/1``) and the request says it was sampled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tscloud_py.build.nitro import NitroBuild

MAX_BYTES = 8 * 1024 * 1024
SAMPLE_PARAM = "1"
SAMPLE_SPLAT = "sample"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

_ROUTE_OBJECT = re.compile(r"""\{[^{}]*?\broute\s*:\s*(["'])(/[^"']*)\1[^{}]*\}""")
_METHOD = re.compile(r"""\bmethod\s*:\s*["'](\w+)["']""")
_MIDDLEWARE = re.compile(r"""\bmiddleware\s*:\s*(?:true|!0)\b""")
_HANDLER = re.compile(r"\bhandler\s*:")
_TSR_MANIFEST = re.compile(r"\btsrStartManifest\s*=[\s\S]*?__root__")
_TSR_CHILDREN = re.compile(r"""children\s*:\s*\[([^\]]*)\]""")
_QUOTED = re.compile(r"""["']([^"']+)["']""")


@dataclass(frozen=True)
class Route:
    pattern: str  # as the framework writes it: /users/:id, /posts/$slug, /blog/**
    method: str  # GET unless the route table binds it to one method
    source: str  # the build file it was read from


@dataclass(frozen=True)
class Request:
    """One request the doctor (or verify) sends: method, path with query, and the pattern it samples."""

    method: str
    path: str
    pattern: str | None = None  # set when ``path`` is a sample of a dynamic pattern
    given: bool = False  # the user asked for it (--probe)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def sampled(self) -> bool:
        return self.pattern is not None


@dataclass(frozen=True)
class Discovery:
    routes: list[Route]
    requests: list[Request]  # one GET per probe-able route, in the route table's order
    skipped: list[tuple[str, str]]  # (route, why it is not requested)


def discover(build: NitroBuild) -> Discovery:
    """Every route of ``build`` and the GET request that exercises each."""
    tanstack = _tanstack_routes(build)
    routes = tanstack + _nitro_routes(build)
    public = _public_paths(build)
    requests: list[Request] = []
    skipped: list[tuple[str, str]] = []
    seen: set[str] = set()
    for route in routes:
        if route.pattern in seen and route.method == "GET":
            continue
        seen.add(route.pattern)
        label = route.pattern if route.method == "GET" else f"{route.method} {route.pattern}"
        if route.method not in ("GET", "HEAD"):
            skipped.append((label, f"not GET: add --probe '{route.method} {sample(route.pattern) or route.pattern}'"))
            continue
        if _is_public(route.pattern, public):
            skipped.append((label, "served from public/ (prerendered or static), not by the function"))
            continue
        if tanstack and route.pattern in ("/**", "/*"):
            continue  # Nitro's catch-all for TanStack's renderer: its routes come from the manifest
        path = sample(route.pattern)
        if path is None:
            skipped.append((label, "no sample for this pattern: add --probe with a real path"))
            continue
        requests.append(Request("GET", path, route.pattern if path != route.pattern else None))
    if not requests and not routes:
        requests.append(Request("GET", "/"))
    return Discovery(routes, _dedupe(requests), skipped)


def sample(pattern: str) -> str | None:
    """A concrete path for a route pattern, or None when it has no sensible one.

    Nitro/rou3: ``:id`` and ``**:slug`` and ``*``/``**``; TanStack Router: ``$id``, ``$`` (splat) and
    ``{-$id}`` (optional, dropped); Nitro 2 file names ``[id]`` / ``[...slug]``.
    """
    if pattern in ("/**", "/*", "**"):
        return "/"
    parts: list[str] = []
    for seg in pattern.split("/"):
        if not seg:
            continue
        if re.fullmatch(r"\{-\$[\w-]+\}", seg):
            continue
        if seg.startswith(("**", "[...")) or seg == "$":
            parts.append(SAMPLE_SPLAT)
        elif seg.startswith((":", "$", "[")) or seg == "*" or re.fullmatch(r"\{\$[\w-]+\}", seg):
            parts.append(SAMPLE_PARAM)
        elif seg.startswith("(") and seg.endswith(")"):
            continue  # a TanStack route group is not in the URL
        elif seg.startswith("_"):
            continue  # a TanStack pathless layout
        else:
            parts.append(seg.rstrip("_"))
    return "/" + "/".join(parts)


def _bundle_files(build: NitroBuild) -> list[Path]:
    server = build.server_dir
    files = [p for p in sorted(server.rglob("*.mjs")) + sorted(server.rglob("*.js"))
             if p.is_file() and "node_modules" not in p.relative_to(server).parts
             and "_libs" not in p.relative_to(server).parts and p.stat().st_size <= MAX_BYTES]
    handler = build.handler_file()
    return ([handler] if handler else []) + [f for f in files if f != handler]


def _nitro_routes(build: NitroBuild) -> list[Route]:
    for path in _bundle_files(build):
        text = path.read_text(encoding="utf-8", errors="replace")
        found = []
        for m in _ROUTE_OBJECT.finditer(text):
            body = m.group(0)
            if not _HANDLER.search(body) or _MIDDLEWARE.search(body):
                continue
            method = _METHOD.search(body)
            found.append(Route(m.group(2), method.group(1).upper() if method else "GET",
                               path.relative_to(build.root).as_posix()))
        if found:
            return found
    return []


def _tanstack_routes(build: NitroBuild) -> list[Route]:
    for path in _bundle_files(build):
        text = path.read_text(encoding="utf-8", errors="replace")
        if not _TSR_MANIFEST.search(text):
            continue
        rel = path.relative_to(build.root).as_posix()
        ids: list[str] = []
        for m in _TSR_CHILDREN.finditer(text):
            ids += [q for q in _QUOTED.findall(m.group(1)) if q.startswith("/")]
        patterns = dict.fromkeys(_tanstack_path(i) for i in ids)
        return [Route(p, "GET", rel) for p in patterns]
    return []


def _tanstack_path(route_id: str) -> str:
    """A TanStack route id as its URL pattern: pathless layouts and groups dropped, no trailing slash."""
    segs = [s for s in route_id.split("/") if s and not s.startswith("_") and not (s.startswith("(") and s.endswith(")"))]
    return "/" + "/".join(segs)


def _public_paths(build: NitroBuild) -> set[str]:
    public = build.public_dir
    if not public.is_dir():
        return set()
    paths: set[str] = set()
    for p in public.rglob("*"):
        rel = "/" + p.relative_to(public).as_posix()
        paths.add(rel)
        if p.name == "index.html":
            paths.add(rel[: -len("index.html")].rstrip("/") or "/")
        elif p.suffix == ".html":
            paths.add(rel[: -len(".html")])
    return paths


def _is_public(pattern: str, public: set[str]) -> bool:
    if pattern in public:
        return True
    # /assets/** is public when public/assets exists.
    prefix = pattern.split("/**")[0].split("/*")[0] if "*" in pattern else None
    return prefix is not None and prefix != "" and prefix in public


def _dedupe(requests: list[Request]) -> list[Request]:
    seen: set[str] = set()
    out = []
    for r in requests:
        if r.label not in seen:
            seen.add(r.label)
            out.append(r)
    return out


def parse_probe(value: str) -> Request:
    """``--probe`` as the user wrote it: ``PATH`` (a GET) or ``METHOD PATH``; ValueError when it is neither."""
    parts = value.split()
    if len(parts) == 2 and parts[0].upper() in METHODS:
        method, path = parts[0].upper(), parts[1]
    elif len(parts) == 1:
        method, path = "GET", parts[0]
    else:
        raise ValueError(f"expected PATH or 'METHOD PATH' (METHOD one of {', '.join(METHODS)}), got {value!r}")
    if not path.startswith("/"):
        raise ValueError(f"expected a path starting with /, got {path!r}")
    return Request(method, path, given=True)
