"""Reading a Dockerfile the way the classic builder counts it: instructions with their line numbers.

The classic builder reports progress as "Step N/M : INSTRUCTION"; mapping N back to a line lets a
failed build name the line. It also tells which features only BuildKit understands, so a Dockerfile
that needs it is routed to `docker buildx` (or refused in one line) instead of failing obscurely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s*(.+?)\s*$")
_HEREDOC = re.compile(r"(?:^|\s)<<-?[\"']?([A-Za-z_][A-Za-z0-9_]*)[\"']?")
# Flags the 20.10 classic builder rejects; each is BuildKit's (Dockerfile frontend 1.2+).
_BUILDKIT_FLAGS = {
    "RUN": ("--mount", "--network", "--security"),
    "COPY": ("--link", "--parents", "--exclude", "--chmod"),
    "ADD": ("--link", "--checksum", "--keep-git-dir", "--chmod", "--exclude"),
}


@dataclass(frozen=True)
class Instruction:
    line: int  # 1-based line where the instruction starts
    keyword: str  # upper case: FROM, RUN, ...
    text: str  # the instruction as written, continuations joined

    def short(self, width: int = 80) -> str:
        one = " ".join(self.text.split())
        return one if len(one) <= width else one[: width - 1] + "…"


def instructions(text: str) -> list[Instruction]:
    """The instructions of ``text`` in order, with line continuations (``\\``) joined."""
    out: list[Instruction] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i].strip()
        if not raw or raw.startswith("#"):
            i += 1
            continue
        start, parts = i + 1, [raw]
        while parts[-1].endswith("\\") and i + 1 < len(lines):
            parts[-1] = parts[-1][:-1]
            i += 1
            nxt = lines[i].strip()
            if nxt.startswith("#"):
                parts.append("\\")  # a comment inside a continuation is dropped, the continuation goes on
                continue
            parts.append(nxt)
        joined = " ".join(p for p in parts if p != "\\").strip()
        keyword = joined.split(None, 1)[0].upper()
        out.append(Instruction(start, keyword, joined))
        i += 1
    return out


def buildkit_need(text: str) -> tuple[int, str] | None:
    """(line, what) of the first thing in this Dockerfile that only BuildKit builds; None if none."""
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not stripped:
            continue
        match = _DIRECTIVE.match(stripped)
        if match and match.group(1).lower() == "syntax":
            return number, f"the `# syntax={match.group(2)}` directive"
        if not stripped.startswith("#"):
            break  # parser directives only count before the first instruction
    for ins in instructions(text):
        words = ins.text.split()
        for flag in _BUILDKIT_FLAGS.get(ins.keyword, ()):
            if any(w == flag or w.startswith(flag + "=") for w in words[1:]):
                return ins.line, f"`{ins.keyword} {flag}`"
        heredoc = _HEREDOC.search(ins.text) if ins.keyword in ("RUN", "COPY", "ADD") else None
        if heredoc and heredoc.group(1) in (ln.strip() for ln in text.splitlines()[ins.line:]):
            return ins.line, f"a heredoc in `{ins.keyword}`"
    return None


def base_images(text: str, build_args: dict[str, str]) -> list[tuple[int, str]]:
    """(line, image) of every FROM that names an image, not an earlier stage or ``scratch``."""
    defaults: dict[str, str] = {}
    stages: set[str] = set()
    seen: list[tuple[int, str]] = []
    for ins in instructions(text):
        words = ins.text.split()
        if ins.keyword == "ARG" and not seen and len(words) > 1:
            name, _, value = words[1].partition("=")
            defaults[name] = build_args.get(name, value)
        if ins.keyword != "FROM":
            continue
        args = [w for w in words[1:] if not w.startswith("--")]
        if not args:
            continue
        image = re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: defaults.get(m.group(1), ""), args[0])
        if image.lower() != "scratch" and image.lower() not in stages:
            seen.append((ins.line, image))
        if len(args) >= 3 and args[1].upper() == "AS":
            stages.add(args[2].lower())
    return seen


def read(context: Path, dockerfile: str) -> str:
    return (context / dockerfile).read_text(encoding="utf-8", errors="replace")
