"""ECR: repositories (scan on push, lifecycle policy), images, registry login tokens."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from tscloud_py import redact
from tscloud_py.aws._tags import tag_list
from tscloud_py.aws.session import call, ignoring

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory


class Ecr:
    def __init__(self, factory: ClientFactory, region: str | None = None) -> None:
        self.c = factory.client("ecr", region)

    def repository(self, name: str) -> dict[str, Any] | None:
        with ignoring("RepositoryNotFoundException"):
            return dict(call(self.c.describe_repositories, "ecr:DescribeRepositories",
                             repositoryNames=[name])["repositories"][0])
        return None

    def create_repository(self, name: str, tags: dict[str, str]) -> dict[str, Any]:
        return dict(call(self.c.create_repository, "ecr:CreateRepository", repositoryName=name,
                         imageTagMutability="IMMUTABLE", imageScanningConfiguration={"scanOnPush": True},
                         encryptionConfiguration={"encryptionType": "AES256"}, tags=tag_list(tags))["repository"])

    def set_scan_on_push(self, name: str) -> None:
        call(self.c.put_image_scanning_configuration, "ecr:PutImageScanningConfiguration", repositoryName=name,
             imageScanningConfiguration={"scanOnPush": True})

    def lifecycle_policy(self, name: str) -> dict[str, Any] | None:
        with ignoring("LifecyclePolicyNotFoundException"):
            text = call(self.c.get_lifecycle_policy, "ecr:GetLifecyclePolicy",
                        repositoryName=name)["lifecyclePolicyText"]
            return dict(json.loads(text))
        return None

    def put_lifecycle_policy(self, name: str, policy: dict[str, Any]) -> None:
        call(self.c.put_lifecycle_policy, "ecr:PutLifecyclePolicy", repositoryName=name,
             lifecyclePolicyText=json.dumps(policy, sort_keys=True))

    def image_digest(self, name: str, tag: str) -> str | None:
        """The digest of ``name:tag`` if that image is in the repository."""
        with ignoring("ImageNotFoundException", "RepositoryNotFoundException"):
            found = call(self.c.describe_images, "ecr:DescribeImages", repositoryName=name,
                         imageIds=[{"imageTag": tag}])["imageDetails"]
            return str(found[0]["imageDigest"]) if found else None
        return None

    def login(self) -> tuple[str, str, str]:
        """(username, password, registry endpoint) from GetAuthorizationToken. Keep the password in memory only."""
        data = call(self.c.get_authorization_token, "ecr:GetAuthorizationToken")["authorizationData"][0]
        redact.register(str(data["authorizationToken"]))
        user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
        redact.register(password)
        return user, password, str(data["proxyEndpoint"])

    def delete_repository(self, name: str) -> None:
        with ignoring("RepositoryNotFoundException"):
            call(self.c.delete_repository, "ecr:DeleteRepository", repositoryName=name, force=True)
