"""Destroying a stage whose database has deletion protection refuses before the first delete: exit 2
naming the step, the resource and how to lift it, and nothing deleted (the AWS-written requests counted
by the proxy; the state backend's lock and journal writes are not resource writes)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from tests.cli.site_support import boto
from tests.conftest import REPO, MotoServer, run_cli
from tests.fakes.aws_proxy import AwsProxy


def test_prod_destroy_with_a_protected_database_deletes_nothing(moto_server: MotoServer, tmp_path: Path) -> None:
    app = f"prot{uuid.uuid4().hex[:6]}"
    project = tmp_path / app
    shutil.copytree(REPO / "examples" / "fullstack-app", project, ignore=shutil.ignore_patterns(".tscloud"))
    toml = project / "tscloud.toml"
    toml.write_text(toml.read_text().replace('app = "shopfs"', f'app = "{app}"'))
    base = ("--endpoint-url", moto_server.endpoint, "--stage", "prod")
    deployed = run_cli(*base, "deploy", cwd=project, timeout=600)
    assert deployed.code == 0, deployed.output[-3000:]
    rds = boto(moto_server.endpoint, "rds")
    db = rds.describe_db_instances(DBInstanceIdentifier=f"{app}-prod-db")["DBInstances"][0]
    assert db["DeletionProtection"] is True  # prod's default

    with AwsProxy(moto_server.endpoint) as proxy:
        refused = run_cli("--endpoint-url", proxy.endpoint, "--stage", "prod", "--yes", "destroy",
                          "--confirm", f"{app}-prod", cwd=project, timeout=600)
        assert refused.code == 2, refused.output[-3000:]
        assert "database" in refused.stderr and "deletion protection" in refused.stderr
        assert "deletion_protection = false" in refused.stderr and "Traceback" not in refused.stderr
        assert [r.describe() for r in proxy.resource_writes()] == []
    assert run_cli(*base, "outputs", cwd=project).code == 0

    rds.modify_db_instance(DBInstanceIdentifier=f"{app}-prod-db", DeletionProtection=False, ApplyImmediately=True)
    gone = run_cli(*base, "--yes", "destroy", "--confirm", f"{app}-prod", "--no-snapshot", cwd=project,
                   timeout=600)
    assert gone.code == 0, gone.output[-3000:]
