"""A custom-runtime function (``provided.al2023``): its ``bootstrap`` is the runtime process.

Lambda unpacks the function's layers in ``/opt`` and runs ``$LAMBDA_TASK_ROOT/bootstrap`` when the code
has one, else ``/opt/bootstrap``. Here the layers are unpacked in a directory standing for ``/opt``
(a bootstrap that finds its files relative to itself, as the Bun layer's does, runs unchanged), with
``/opt/bin`` on PATH and ``/opt/lib`` on LD_LIBRARY_PATH as Lambda sets them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from tscloud_py.lambda_runtime.process import FunctionProcess
from tscloud_py.lambda_runtime.ric_install import RuntimeClientMissingError


class ProvidedFunction(FunctionProcess):
    """A ``provided.*`` function whose layers are unpacked in ``opt_dir``."""

    def __init__(self, code_dir: Path, handler: str, opt_dir: Path, *, timeout_s: float = 15.0,
                 env: Mapping[str, str] | None = None, name: str = "local", memory_mb: int = 1024,
                 region: str = "us-east-1") -> None:
        super().__init__(code_dir, handler, timeout_s=timeout_s, env=env, name=name, memory_mb=memory_mb,
                         region=region)
        self.opt_dir = opt_dir.resolve()
        self.bootstrap = next((p for p in (self.code_dir / "bootstrap", self.opt_dir / "bootstrap")
                               if p.is_file() and os.access(p, os.X_OK)), None)
        if self.bootstrap is None:
            raise RuntimeClientMissingError(f"{name}: a provided runtime needs an executable bootstrap in its code or a layer, "
                             "and neither has one", "attach the runtime's layer (e.g. the Bun layer)")

    def command(self) -> list[str]:
        assert self.bootstrap is not None
        return [str(self.bootstrap)]

    def runtime_env(self) -> dict[str, str]:
        path = os.environ.get("PATH", "/usr/bin:/bin")
        libs = [str(self.opt_dir / "lib"), *filter(None, [os.environ.get("LD_LIBRARY_PATH")])]
        return {"PATH": f"{path}:{self.opt_dir / 'bin'}", "LD_LIBRARY_PATH": ":".join(libs),
                "LAMBDA_RUNTIME_DIR": str(self.opt_dir)}
