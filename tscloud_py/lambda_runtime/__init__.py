"""Running Lambda functions on this machine under AWS's own runtime interface client.

``api`` is a local Lambda Runtime API that records, per invocation, what the
runtime client sent and when; ``process`` is one execution environment polling it;
``node`` starts a function's code under the ``aws-lambda-ric`` npm package, and
``provided`` a custom runtime's ``bootstrap`` from its layers (the Bun layer);
``events`` turns HTTP requests into Lambda events and Lambda results back into
HTTP responses; ``ric_install`` finds
the runtime client or installs it into tscloud's cache (``ensure_ric``).

The entry point for callers (doctor, the emulator, the local edge)::

    with NodeFunction(code_dir, "index.handler", timeout_s=15) as fn:
        inv = fn.start(function_url_event("GET", "/"))   # returns at once
        inv.wait_prelude(30)                               # status + headers (streamed or buffered)
        for chunk in inv.body():                           # bytes, as the runtime writes them
            ...
        inv.wait_done(30)                                  # the runtime asked for its next event
"""

from tscloud_py.lambda_runtime.api import Invocation, RuntimeApi
from tscloud_py.lambda_runtime.node import NodeFunction, find_node
from tscloud_py.lambda_runtime.process import FunctionProcess
from tscloud_py.lambda_runtime.provided import ProvidedFunction
from tscloud_py.lambda_runtime.ric_install import RuntimeClientMissingError, ensure_ric, find_ric

__all__ = ["FunctionProcess", "Invocation", "NodeFunction", "ProvidedFunction", "RuntimeApi",
           "RuntimeClientMissingError", "ensure_ric", "find_node", "find_ric"]
