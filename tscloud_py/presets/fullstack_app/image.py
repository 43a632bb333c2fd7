"""The image: a prebuilt URI, or a docker build pushed to ECR and pinned by digest."""

from __future__ import annotations

from typing import Any

from tscloud_py.aws.ecr import Ecr
from tscloud_py.config.schema import Config
from tscloud_py.engine.step import Change, Outputs, StepContext
from tscloud_py.presets.fullstack_app.common import FsStep, compare
from tscloud_py.presets.naming import Names

LIFECYCLE = {"rules": [{
    "rulePriority": 1, "description": "keep the 20 most recent images",
    "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 20},
    "action": {"type": "expire"}}]}


class ImageStep(FsStep):
    kind = "container image"
    provides = frozenset({"image", "repository_arn", "repository", "tag"})

    def __init__(self, step_id: str, ecr: Ecr, config: Config, names: Names, *, verbose: bool = False) -> None:
        super().__init__(step_id, config, names)
        self.ecr = ecr
        self.verbose = verbose  # the build's own output, not only its failure

    @property
    def repo_name(self) -> str:
        return self.names.resource("api")

    def _spec(self) -> Any:
        from tscloud_py.build.container import BuildSpec

        api = self.config.api
        assert api is not None and api.build is not None
        b = api.build
        platform = b.platform or ("linux/arm64" if api.architecture == "arm64" else "linux/amd64")
        return BuildSpec((self.config.base_dir / b.context).resolve(), b.dockerfile, b.target, dict(b.args),
                         platform, pull=b.pull, network=b.network,
                         log_dir=self.config.base_dir / ".tscloud" / "build")

    def tag(self) -> str:
        from tscloud_py.build.container import context_hash

        return context_hash(self._spec())

    def needs_build(self) -> bool:
        """Whether a deploy would build the image: it is built, not prebuilt, and its tag (the build
        context's hash) is not in the repository yet."""
        api = self.config.api
        if api is None or api.image is not None:
            return False
        return self.ecr.repository(self.repo_name) is None or \
            self.ecr.image_digest(self.repo_name, self.tag()) is None

    def read(self, ctx: StepContext) -> Any | None:
        api = self.config.api
        assert api is not None
        if api.image is not None:
            return {"prebuilt": api.image}
        repo = self.ecr.repository(self.repo_name)
        if repo is None:
            return None
        tag = self.tag()
        return {"repo": repo, "lifecycle": self.ecr.lifecycle_policy(self.repo_name), "tag": tag,
                "digest": self.ecr.image_digest(self.repo_name, tag)}

    def diff(self, ctx: StepContext, observed: Any | None) -> list[Change]:
        if observed is not None and "prebuilt" in observed:
            return []
        if observed is None:
            return [Change("ECR repository", None, self.repo_name), Change("image", None, "build and push")]
        changes: list[Change] = []
        compare(changes, "scanOnPush", observed["repo"].get("imageScanningConfiguration", {}).get("scanOnPush"), True)
        compare(changes, "lifecycle policy", observed["lifecycle"], LIFECYCLE)
        if observed["digest"] is None:
            changes.append(Change("image", None, f"build and push {self.repo_name}:{observed['tag']}"))
        return changes

    def apply(self, ctx: StepContext, observed: Any | None) -> Outputs:
        ecr = self.ecr
        if observed is None:
            repo = ecr.create_repository(self.repo_name, self.tags)
            observed = {"repo": repo, "lifecycle": None, "tag": self.tag(), "digest": None}
        repo = observed["repo"]
        if not repo.get("imageScanningConfiguration", {}).get("scanOnPush"):
            ecr.set_scan_on_push(self.repo_name)
        if observed["lifecycle"] != LIFECYCLE:
            ecr.put_lifecycle_policy(self.repo_name, LIFECYCLE)
        digest = observed["digest"]
        if digest is None:
            from tscloud_py.build.container import build_and_push

            digest = build_and_push(self._spec(), str(repo["repositoryUri"]), observed["tag"], ecr.login,
                                    log=ctx.log, verbose=self.verbose).digest
        return self.outputs(ctx, {**observed, "digest": digest})

    def outputs(self, ctx: StepContext, observed: Any) -> Outputs:
        if "prebuilt" in observed:
            return {"image": observed["prebuilt"], "repository_arn": None, "repository": None}
        repo = observed["repo"]
        return {"image": f"{repo['repositoryUri']}@{observed['digest']}", "repository_arn": repo["repositoryArn"],
                "repository": self.repo_name, "tag": observed["tag"]}

    def destroy(self, ctx: StepContext, observed: Any) -> str | None:
        if "prebuilt" in observed:
            return "kept"  # a prebuilt image is not ours to delete
        self.ecr.delete_repository(self.repo_name)
        return None

    def destroy_changes(self, observed: Any) -> list[Change]:
        if "prebuilt" in observed:
            return [Change("prebuilt image (nothing to delete)")]
        return [Change(f"delete ECR repository {self.repo_name} and its images", destructive=True)]
