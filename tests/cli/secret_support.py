"""Scans for a secret's value: in text the commands printed, and in every file under some roots. A piece
of 6 characters is enough to count (the redaction layer masks runs of 8, so a leak shows as less)."""

from __future__ import annotations

from pathlib import Path


def pieces(secret: str, text: str, size: int = 6) -> list[str]:
    return [secret[i:i + size] for i in range(len(secret) - size + 1) if secret[i:i + size] in text]


def files_holding(secret: str, *roots: Path) -> list[str]:
    return [str(p) for root in roots for p in root.rglob("*")
            if p.is_file() and not p.is_symlink() and pieces(secret, p.read_bytes().decode(errors="replace"))]
