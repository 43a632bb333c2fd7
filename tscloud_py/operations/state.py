"""Which state backend a command gets: the choice between the state bucket and local files.

The state package builds locks and journals from what it is given; this is where the config decides
what that is (``[state] backend = "local"`` chooses files, anything else the state bucket ``[state]
bucket`` names or tscloud's own per account and region; under ``--local``, the one in the emulator).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tscloud_py.state.backend import StateBackend

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory, RequestLog
    from tscloud_py.aws.state_bucket import S3StateStore
    from tscloud_py.config.schema import Config
    from tscloud_py.operations.context import AppContext


def open_state(app: AppContext, aws: ClientFactory, config: Config) -> StateBackend:
    local_dir = app.state_dir(aws, config.app, config.stage)
    scope = f"{config.app}-{config.stage} ({aws.region})"
    if config.state.backend == "local":
        return StateBackend(config.app, config.stage, scope, local_dir)
    # One lock file per state bucket lock, named like the local backend's directory of the same stage.
    keyed = local_dir.relative_to(app.project_dir / ".tscloud" / "state")
    return StateBackend(config.app, config.stage, scope, local_dir, s3_store(aws, config),
                        working_copy_lock=app.project_dir / ".tscloud" / "locks" / keyed / "lock")


def state_requests(state: StateBackend) -> RequestLog | None:
    """The state bucket's requests, counted apart from the resource requests (None for local files)."""
    from tscloud_py.aws.state_bucket import S3StateStore

    return state.store.factory.requests if isinstance(state.store, S3StateStore) else None


def s3_store(aws: ClientFactory, config: Config) -> S3StateStore:
    from tscloud_py.aws.state_bucket import S3StateStore, default_bucket_name

    factory = aws.sibling()
    if config.state.bucket:
        return S3StateStore(factory, config.state.bucket, owned=False, config_path=config.path)
    return S3StateStore(factory, default_bucket_name(aws.account_id(), aws.region), owned=True,
                        config_path=config.path)
