"""A Node.js Lambda function run by AWS's runtime interface client (the ``aws-lambda-ric`` npm package)."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from tscloud_py.lambda_runtime.process import FunctionProcess
from tscloud_py.lambda_runtime.ric_install import RIC_VERSION, RuntimeClientMissingError, find_ric


def find_node() -> str | None:
    return shutil.which("node")


class NodeFunction(FunctionProcess):
    """A ``nodejs*`` function: ``node`` runs aws-lambda-ric, which loads the handler from the code dir."""

    def __init__(self, code_dir: Path, handler: str = "index.handler", *, timeout_s: float = 15.0,
                 env: Mapping[str, str] | None = None, name: str = "local", memory_mb: int = 1024,
                 region: str = "us-east-1", ric: Path | None = None, node: str | None = None) -> None:
        super().__init__(code_dir, handler, timeout_s=timeout_s, env=env, name=name, memory_mb=memory_mb,
                         region=region)
        found_node = node or find_node()
        if found_node is None:
            raise RuntimeClientMissingError("node is not on PATH: it is needed to run the function locally",
                                            "install Node.js 20 or newer")
        found_ric = ric or find_ric(self.code_dir)
        if found_ric is None:
            raise RuntimeClientMissingError(f"aws-lambda-ric {RIC_VERSION} (AWS's Lambda runtime client) not found")
        self.node, self.ric = found_node, found_ric

    def command(self) -> list[str]:
        return [self.node, str(self.ric / "bin" / "index.mjs"), self.handler]

    def runtime_env(self) -> dict[str, str]:
        return {"LAMBDA_RUNTIME_DIR": str(self.ric), "AWS_EXECUTION_ENV": "AWS_Lambda_nodejs_local"}
