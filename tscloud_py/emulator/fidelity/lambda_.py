"""Lambda as AWS runs it: node and provided functions really run, their URLs and REST API stages are
served, SQS event source mappings are polled, one event source mapping per queue and function."""

from __future__ import annotations

import contextlib
from typing import Any


def apply() -> None:
    _lambda_runs_node_functions()
    _one_mapping_per_queue_and_function()
    _sqs_mappings_are_polled()


def _sqs_mappings_are_polled() -> None:
    """Lambda polls a mapped queue and invokes the function with batches, after SendMessage has answered
    (tscloud_py.emulator.lambda_.sqs_events); moto instead receives and invokes inside SendMessage, one
    message per invocation, ignoring batchItemFailures. Its SendMessage here only stores the message and
    wakes the pollers."""
    import threading

    from moto.sqs.models import Queue

    from tscloud_py.emulator.lambda_.sqs_events import POLLER

    add_message = Queue.add_message
    lock = threading.Lock()

    def add(self: Any, message: Any) -> None:
        with lock:  # moto walks lambda_event_source_mappings inside add_message: hide them for that walk
            mappings, self.lambda_event_source_mappings = self.lambda_event_source_mappings, {}
            try:
                add_message(self, message)
            finally:
                self.lambda_event_source_mappings = mappings
        POLLER.wake()

    Queue.add_message = add  # type: ignore[method-assign]


def _lambda_runs_node_functions() -> None:
    """Lambda runs a function's code on Invoke; moto does that only in Docker.

    A nodejs function runs here instead, under AWS's runtime client, and a provided one (the Bun layer's)
    under its layers' bootstrap (tscloud_py.emulator.lambda_.invoke); its Function URL, and each REST API stage whose Lambda proxy integration calls it, are
    served on loopback once the emulator serves them (Emulator.start).
    Other runtimes keep moto's Docker execution.
    """
    import json

    from moto.awslambda.models import LambdaBackend, LambdaFunction

    from tscloud_py.emulator.lambda_ import invoke as local_invoke

    invoke = LambdaFunction._invoke_lambda

    def _invoke_lambda(self: Any, event: Any = None) -> Any:
        if local_invoke.runs_here(self):
            return local_invoke.invoke(self, json.dumps(event if event is not None else {}).encode())
        return invoke(self, event)

    create_url = LambdaFunction.create_url_config
    delete_url = LambdaFunction.delete_url_config
    delete_function = LambdaBackend.delete_function

    def create_url_config(self: Any, config: dict[str, Any]) -> Any:
        url_config = create_url(self, config)
        local_invoke.serve_url(self, url_config)
        return url_config

    def delete_url_config(self: Any) -> None:
        delete_url(self)
        local_invoke.stop_url(self)

    def delete(self: Any, function_name: str, qualifier: str | None = None) -> Any:
        with contextlib.suppress(Exception):
            local_invoke.stop_url(self.get_function(function_name))
        return delete_function(self, function_name, qualifier)

    from moto.apigateway.models import APIGatewayBackend

    from tscloud_py.emulator.lambda_ import rest_api as local_rest_api

    create_deployment = APIGatewayBackend.create_deployment

    def deploy(self: Any, function_id: str, name: str, *args: Any, **kwargs: Any) -> Any:
        deployment = create_deployment(self, function_id, name, *args, **kwargs)
        local_rest_api.serve_stage(function_id, name, self.region_name, self.account_id)
        return deployment

    APIGatewayBackend.create_deployment = deploy  # type: ignore[method-assign]
    LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]
    LambdaFunction.create_url_config = create_url_config  # type: ignore[method-assign]
    LambdaFunction.delete_url_config = delete_url_config  # type: ignore[method-assign]
    LambdaBackend.delete_function = delete  # type: ignore[method-assign]


def _one_mapping_per_queue_and_function() -> None:
    """AWS refuses a second event source mapping of one SQS queue to one function (ResourceConflictException,
    409, naming the existing mapping's UUID); moto means to but looks the function up under a literal
    string, so a create sent twice would make two mappings."""
    from moto.awslambda.exceptions import LambdaClientError
    from moto.awslambda.models import LambdaBackend

    class Conflict(LambdaClientError):
        code = 409

    original = LambdaBackend.create_event_source_mapping

    def create(self: Any, spec: dict[str, Any]) -> Any:
        name = str(spec.get("FunctionName", ""))
        for esm in self._event_source_mappings.values():
            same_function = esm.function_arn == name or esm.function_arn.split(":")[6:7] == [name]
            if esm.event_source_arn == spec.get("EventSourceArn") and same_function:
                raise Conflict("ResourceConflictException",
                               f"An event source mapping with SQS arn (\" {esm.event_source_arn} \") and function "
                               f"(\" {name} \") already exists. Please update or delete the existing mapping "
                               f"with UUID {esm.uuid}")
        return original(self, spec)

    LambdaBackend.create_event_source_mapping = create  # type: ignore[method-assign]
