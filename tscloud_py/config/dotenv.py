"""Reading a ``.env`` file: ``KEY=VALUE`` lines, as the Node and Vite tooling of the apps writes them.

Blank lines and ``#`` comments are skipped, a leading ``export`` is allowed, a value
in single or double quotes is taken as written (double quotes understand ``\\n``),
and an unquoted value ends at `` #``. Anything else is an error naming the file and
the line, so a typo never passes silently.
"""

from __future__ import annotations

import re
from pathlib import Path

from tscloud_py.errors import UsageError

_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$")


def read_dotenv(path: Path, *, flag: str = "--env-file") -> dict[str, str]:
    """The variables of ``path``; ``UsageError`` (exit 2) naming ``flag``, the file and the line when it is bad."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{flag} {path}: cannot read it ({exc.__class__.__name__})") from None
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if m is None:
            raise UsageError(f"{flag} {path}:{number}: expected KEY=VALUE")
        key, value = m.group(1), m.group(2).strip()
        if value[:1] in ("'", '"'):
            quote = value[0]
            end = value.find(quote, 1)
            if end < 0:
                raise UsageError(f"{flag} {path}:{number}: {key}: the quoted value is not closed")
            inner = value[1:end]
            value = inner.replace("\\n", "\n") if quote == '"' else inner
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
        values[key] = value
    return values
