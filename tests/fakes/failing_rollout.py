"""A strict layer for ECS rollouts: moto always reports a rollout as COMPLETED, AWS does not.

``FailingRolloutProxy`` forwards to moto like ``AwsProxy`` (and records the same way); once
``fail_revision(n)`` is armed, every service running revision ``n`` of a task family reads as a
deployment the circuit breaker stopped: DescribeServices says rolloutState FAILED with service
events, ListTasks(STOPPED) and DescribeTasks show the stopped task with its reason, and
DescribeTargetHealth reports the task's target unhealthy — what AWS shows after a bad image.
"""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.aws_proxy import AwsProxy

ECS = "AmazonEC2ContainerServiceV20141113."
ELB_HEALTH = b"Action=DescribeTargetHealth"
STOPPED_TASK = "arn:aws:ecs:us-east-1:123456789012:task/{cluster}/0f1e2d3c4b5a69788796a5b4c3d2e1f0"
STOPPED_REASON = "Essential container in task exited"
CONTAINER_REASON = "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
UNHEALTHY_XML = """<DescribeTargetHealthResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">
<DescribeTargetHealthResult><TargetHealthDescriptions><member>
<Target><Id>10.0.1.23</Id><Port>80</Port></Target>
<TargetHealth><State>unhealthy</State><Reason>Target.ResponseCodeMismatch</Reason>
<Description>Health checks failed with these codes: [502]</Description></TargetHealth>
</member></TargetHealthDescriptions></DescribeTargetHealthResult>
<ResponseMetadata><RequestId>f1e2d3c4</RequestId></ResponseMetadata></DescribeTargetHealthResponse>"""


class FailingRolloutProxy(AwsProxy):
    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.failing: str | None = None  # ":<revision>" suffix of the task definition that fails
        self.failed_task_definition: str | None = None

    def fail_revision(self, revision: int) -> None:
        self.failing = f":{revision}"

    def _forward(self, method: str, path: str, headers: dict[str, str],
                 body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        status, out_headers, out_body = super()._forward(method, path, headers, body)
        if self.failing is None or status != 200:
            return status, out_headers, out_body
        target = next((v for k, v in headers.items() if k.lower() == "x-amz-target"), "")
        if target == ECS + "DescribeServices":
            doc = json.loads(out_body)
            for svc in doc.get("services", []):
                self._fail_service(svc)
            return status, out_headers, json.dumps(doc).encode()
        if target == ECS + "ListTasks":
            req = json.loads(body or b"{}")
            if req.get("desiredStatus") == "STOPPED":
                cluster = str(req.get("cluster", "")).rsplit("/", 1)[-1]
                return status, out_headers, json.dumps({"taskArns": [STOPPED_TASK.format(cluster=cluster)]}).encode()
        if target == ECS + "DescribeTasks":
            req = json.loads(body or b"{}")
            stopped = [t for t in req.get("tasks", []) if t.endswith("0f1e2d3c4b5a69788796a5b4c3d2e1f0")]
            if stopped:
                return status, out_headers, json.dumps({"tasks": [self._stopped_task(stopped[0])],
                                                        "failures": []}).encode()
        if ELB_HEALTH in body:
            return status, [(k, v) for k, v in out_headers if k.lower() != "content-length"], UNHEALTHY_XML.encode()
        return status, out_headers, out_body

    def _fail_service(self, svc: dict[str, Any]) -> None:
        td = str(svc.get("taskDefinition", ""))
        if not td.endswith(str(self.failing)):
            return
        self.failed_task_definition = td
        svc["runningCount"] = 0
        svc["deployments"] = [{
            "id": "ecs-svc/1111111111111111111", "status": "PRIMARY", "taskDefinition": td,
            "desiredCount": svc.get("desiredCount", 1), "runningCount": 0, "pendingCount": 0, "failedTasks": 3,
            "rolloutState": "FAILED",
            "rolloutStateReason": "ECS deployment circuit breaker: tasks failed to start.",
        }]
        svc["events"] = [
            {"id": "e3", "createdAt": 1795000300.0,
             "message": f"(service {svc['serviceName']}) deployment failed: tasks failed to start."},
            {"id": "e2", "createdAt": 1795000200.0,
             "message": f"(service {svc['serviceName']}) has started 1 tasks: (task 0f1e2d3c4b5a)."},
        ]

    def _stopped_task(self, arn: str) -> dict[str, Any]:
        return {"taskArn": arn, "taskDefinitionArn": self.failed_task_definition, "lastStatus": "STOPPED", "desiredStatus": "STOPPED",
                "stoppedReason": STOPPED_REASON, "stopCode": "EssentialContainerExited",
                "containers": [{"name": "api", "exitCode": 1, "reason": CONTAINER_REASON}]}
