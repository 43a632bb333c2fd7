"""tscloud.toml loading: valid configs type correctly; every malformed config or flag exits 2 with one line
naming the key (and, through the real CLI, no traceback)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO, MotoServer, run_cli
from tscloud_py.config.load import config_from_dict, load_config
from tscloud_py.errors import ConfigError

STATIC = 'app = "shop"\npreset = "static-site"\n\n[site]\ndir = "dist"\n'


def write(tmp_path: Path, text: str, name: str = "tscloud.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    (tmp_path / "dist").mkdir(exist_ok=True)
    (tmp_path / "dist" / "index.html").write_text("<html></html>")
    return path


# -- valid ----------------------------------------------------------------------------------------
def test_minimal_static_site_gets_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, STATIC))
    assert (config.app, config.preset, config.region, config.stage) == ("shop", "static-site", "us-east-1", "dev")
    assert config.site is not None
    assert (config.site.dir, config.site.spa, config.site.domain, config.site.index) == ("dist", False, None,
                                                                                       "index.html")
    assert config.dns.provider == "route53"
    assert config.base_dir == tmp_path.resolve()
    assert config.site.resolved_dir(config.base_dir) == (tmp_path / "dist").resolve()
    assert not config.is_production


def test_full_static_site(tmp_path: Path) -> None:
    text = ('app = "my-shop2"\npreset = "static-site"\nregion = "eu-west-1"\nstage = "prod"\n\n'
            '[site]\ndir = "build/out"\nspa = true\ndomain = "www.example.com"\nindex = "home.html"\n'
            'price_class = "PriceClass_All"\nretain = true\n\n'
            '[dns]\nprovider = "cloudflare"\nzone = "example.com"\nproxied = false\n')
    config = load_config(write(tmp_path, text))
    assert config.region == "eu-west-1" and config.is_production
    assert config.site is not None and config.site.spa and config.site.domain == "www.example.com"
    assert config.site.price_class == "PriceClass_All" and config.site.retain
    assert config.dns.provider == "cloudflare" and config.dns.zone == "example.com"


def test_a_static_site_config_loads_no_other_presets_tables(tmp_path: Path) -> None:
    """Each preset's tables load with a config that has them (``config/schema.py``): a static site's
    deploy does not build the fullstack-app's and ssr-app's dataclasses. In a fresh interpreter, as a
    command starts."""
    import subprocess
    import sys

    program = ("import sys\nfrom pathlib import Path\nfrom tscloud_py.config.load import load_config\n"
               "config = load_config(Path(sys.argv[1]))\n"
               "print(config.site.dir, sorted(m for m in sys.modules if m.startswith('tscloud_py.config.tables.')))\n"
               "from tscloud_py.config.schema import ApiConfig, SsrConfig\n"
               "print(ApiConfig.__module__, SsrConfig.__module__)\n")
    done = subprocess.run([sys.executable, "-c", program, str(write(tmp_path, STATIC))], capture_output=True,
                          text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    loaded, named = done.stdout.splitlines()
    assert loaded == ("dist ['tscloud_py.config.tables.common', 'tscloud_py.config.tables.edge', "
                      "'tscloud_py.config.tables.preview']")
    # a name of another preset's table still imports from the schema, loading its module then
    assert named == "tscloud_py.config.tables.fullstack tscloud_py.config.tables.ssr"


def test_flags_override_the_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, STATIC + "\n"), stage="qa", region="us-west-2")
    assert (config.stage, config.region) == ("qa", "us-west-2")


@pytest.mark.parametrize("example", sorted(p.parent.name for p in (REPO / "examples").glob("*/tscloud.toml")))
def test_bundled_examples_load(example: str) -> None:
    config = load_config(REPO / "examples" / example / "tscloud.toml")
    assert config.app and config.preset


# -- malformed: in-process --------------------------------------------------------------------------
BAD_CONFIGS: list[tuple[str, str, str]] = [
    # (id, file text, the key the one-line error must name)
    ("app-missing", 'preset = "static-site"\n[site]\n', "app"),
    ("app-uppercase", 'app = "Shop"\npreset = "static-site"\n[site]\n', "app"),
    ("app-too-long", f'app = "{"a" * 31}"\npreset = "static-site"\n[site]\n', "app"),
    ("app-integer", 'app = 5\npreset = "static-site"\n[site]\n', "app"),
    ("app-trailing-dash", 'app = "shop-"\npreset = "static-site"\n[site]\n', "app"),
    ("preset-missing", 'app = "shop"\n[site]\n', "preset"),
    ("preset-unknown", 'app = "shop"\npreset = "static"\n[site]\n', "preset"),
    ("unknown-top-key", 'app = "shop"\npreset = "static-site"\nregoin = "us-east-1"\n[site]\n', "regoin"),
    ("region-bad", 'app = "shop"\npreset = "static-site"\nregion = "mars"\n[site]\n', "region"),
    ("region-unknown", 'app = "shop"\npreset = "static-site"\nregion = "us-east-7"\n[site]\n', "region"),
    ("stage-bad", 'app = "shop"\npreset = "static-site"\nstage = "Prod!"\n[site]\n', "stage"),
    ("site-missing", 'app = "shop"\npreset = "static-site"\n', "[site]"),
    ("site-not-a-table", 'app = "shop"\npreset = "static-site"\nsite = "dist"\n', "site"),
    ("site-unknown-key", 'app = "shop"\npreset = "static-site"\n[site]\ndri = "dist"\n', "site.dri"),
    ("site-dir-integer", 'app = "shop"\npreset = "static-site"\n[site]\ndir = 5\n', "site.dir"),
    ("site-spa-string", 'app = "shop"\npreset = "static-site"\n[site]\nspa = "yes"\n', "site.spa"),
    ("site-domain-bad", 'app = "shop"\npreset = "static-site"\n[site]\ndomain = "not a domain"\n', "site.domain"),
    ("site-price-class", 'app = "shop"\npreset = "static-site"\n[site]\nprice_class = "PriceClass_50"\n',
     "site.price_class"),
    ("site-retain-int", 'app = "shop"\npreset = "static-site"\n[site]\nretain = 1\n', "site.retain"),
    ("dns-provider", 'app = "shop"\npreset = "static-site"\n[site]\n[dns]\nprovider = "namecheap"\n',
     "dns.provider"),
    ("dns-unknown-key", 'app = "shop"\npreset = "static-site"\n[site]\n[dns]\nprovder = "route53"\n',
     "dns.provder"),
    ("dns-zone-bad", 'app = "shop"\npreset = "static-site"\n[site]\n[dns]\nzone = "-bad-"\n', "dns.zone"),
    ("dns-proxied-string", 'app = "shop"\npreset = "static-site"\n[site]\n[dns]\nproxied = "true"\n',
     "dns.proxied"),
    ("table-of-other-preset", 'app = "shop"\npreset = "static-site"\n[site]\n[api]\nport = 80\n', "[api]"),
    ("app-and-stage-too-long", f'app = "{"a" * 30}"\nstage = "{"b" * 15}"\npreset = "static-site"\n[site]\n',
     "app"),
    ("invalid-toml", 'app = "shop\npreset = "static-site"\n', "invalid TOML"),
    ("site-array-of-tables", 'app = "shop"\npreset = "static-site"\n[[site]]\ndir = "x"\n', "site"),
]


def _one_line_naming(message: str, key: str) -> None:
    assert "\n" not in message, message
    assert "Traceback" not in message
    assert key in message, f"{key!r} not named in: {message}"


@pytest.mark.parametrize(("text", "key"), [c[1:] for c in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS])
def test_malformed_config_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    error = info.value
    assert error.exit_code == 2
    assert error.message.startswith(f"{path}: ")  # names the file
    _one_line_naming(error.message, key)


def test_at_least_twenty_malformed_configs() -> None:
    assert len(BAD_CONFIGS) >= 20


@pytest.mark.parametrize(("text", "suggestion"), [
    ('app = "shop"\npreset = "static-site"\nregoin = "x"\n[site]\n', "did you mean 'region'?"),
    ('app = "shop"\npreset = "static-site"\n[site]\ndri = "dist"\n', "did you mean 'dir'?"),
    ('app = "shop"\npreset = "static-sit"\n[site]\n', "did you mean 'static-site'?"),
    ('app = "shop"\npreset = "static-site"\n[site]\n[dns]\nprovider = "route-53"\n', "did you mean 'route53'?"),
])
def test_did_you_mean(tmp_path: Path, text: str, suggestion: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(suggestion)):
        load_config(write(tmp_path, text))


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "tscloud.toml"
    path.write_bytes(b'app = "\xff\xfe"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)


# -- malformed: through the real CLI ------------------------------------------------------------------
def _assert_usage_error(result_code: int, stdout: str, stderr: str, key: str) -> None:
    assert result_code == 2, stderr
    assert "Traceback" not in stderr and "Traceback" not in stdout
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, stderr
    assert key in errors[0], f"{key!r} not named in: {errors[0]}"
    assert all(line.startswith(("error: ", "hint: ")) for line in stderr.splitlines()), stderr


CLI_BAD_CONFIGS = ["site-unknown-key", "preset-unknown", "invalid-toml", "site-missing", "dns-provider",
                   "app-uppercase"]


@pytest.mark.parametrize("case", CLI_BAD_CONFIGS)
def test_cli_malformed_config(tmp_path: Path, case: str) -> None:
    _, text, key = next(c for c in BAD_CONFIGS if c[0] == case)
    write(tmp_path, text)
    result = run_cli("plan", cwd=tmp_path)
    _assert_usage_error(result.code, result.stdout, result.stderr, key)


def test_cli_malformed_config_with_json_output(tmp_path: Path) -> None:
    write(tmp_path, 'app = "shop"\npreset = "static-site"\n[site]\nspa = "yes"\n')
    result = run_cli("--output", "json", "deploy", cwd=tmp_path)
    _assert_usage_error(result.code, "", result.stderr, "site.spa")
    doc = result.json()
    assert "site.spa" in doc["error"] and doc["hint"]


CLI_BAD_FLAGS: list[tuple[list[str], str]] = [
    (["--stage", "BAD_STAGE", "plan"], "--stage"),
    (["--region", "mars", "plan"], "--region"),
    (["--region", "us-east-7", "deploy"], "--region"),
    (["deploy", "--preset", "ssr-app"], "--preset"),
    (["plan", "--preset", "fullstack-app"], "--preset"),
    (["--output", "xml", "plan"], "--output"),
    (["--config", "missing.toml", "plan"], "missing.toml"),
    (["--local", "--endpoint-url", "http://127.0.0.1:1", "plan"], "--endpoint-url"),
    (["deploy", "--only", "bucket", "--from", "upload"], "--only"),
    (["nosuchcommand"], "nosuchcommand"),
    (["deploy", "--bogus"], "--bogus"),
    (["local", "serve", "--port", "99999"], "--port"),
]


@pytest.mark.parametrize(("args", "key"), CLI_BAD_FLAGS, ids=[" ".join(a) for a, _ in CLI_BAD_FLAGS])
def test_cli_bad_flags(tmp_path: Path, args: list[str], key: str) -> None:
    write(tmp_path, STATIC)
    result = run_cli(*args, cwd=tmp_path)
    _assert_usage_error(result.code, result.stdout, result.stderr, key)


@pytest.mark.parametrize(("args", "key"), [
    (["deploy", "--only", "nosuch"], "--only"),
    (["deploy", "--from", "nosuch"], "--from"),
    (["destroy"], "--yes"),  # not a terminal and no --yes
])
def test_cli_bad_flags_needing_the_step_graph(moto_server: MotoServer, tmp_path: Path, args: list[str],
                                              key: str) -> None:
    write(tmp_path, STATIC)
    result = run_cli("--endpoint-url", moto_server.endpoint, *args, cwd=tmp_path)
    _assert_usage_error(result.code, result.stdout, result.stderr, key)


def test_cli_missing_site_dir_names_site_dir(moto_server: MotoServer, tmp_path: Path) -> None:
    write(tmp_path, 'app = "shop"\npreset = "static-site"\n[site]\ndir = "nothere"\n')
    result = run_cli("--endpoint-url", moto_server.endpoint, "plan", cwd=tmp_path)
    _assert_usage_error(result.code, result.stdout, result.stderr, "site.dir")


def test_a_region_botocore_does_not_know_is_refused_with_a_did_you_mean(tmp_path: Path) -> None:
    raw = {"app": "shop", "preset": "static-site", "region": "us-east-7", "site": {}}
    with pytest.raises(ConfigError) as info:
        config_from_dict(raw, "tscloud.toml", base_dir=tmp_path)
    assert info.value.key == "region" and "did you mean 'us-east-2'" in info.value.message
    for known in ("eu-west-1", "us-gov-west-1", "cn-north-1", "ap-southeast-5"):
        assert config_from_dict({**raw, "region": known}, "tscloud.toml", base_dir=tmp_path).region == known


def test_preset_flag_without_a_config_says_in_one_line_what_it_needs(tmp_path: Path) -> None:
    result = run_cli("deploy", "--preset", "static-site", cwd=tmp_path)
    _assert_usage_error(result.code, result.stdout, result.stderr, "--preset static-site")
    assert "[site]" in result.stderr and "tscloud init --preset static-site" in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written, nothing deployed


def test_preset_flag_that_agrees_with_the_config_plans(moto_server: MotoServer, tmp_path: Path) -> None:
    write(tmp_path, STATIC)
    (tmp_path / "dist" / "index.html").write_text("<h1>hi</h1>")
    result = run_cli("--endpoint-url", moto_server.endpoint, "--output", "json", "plan", "--preset", "static-site",
                     cwd=tmp_path)
    assert result.code == 0, result.stderr
    assert {s["id"] for s in result.json()["steps"]} >= {"bucket", "distribution"}


# -- cross-field rules (config/checks.py) -----------------------------------------------------------
def test_every_preset_lists_its_cross_field_rules() -> None:
    from tscloud_py.config.checks import CHECKS
    from tscloud_py.config.preset_registry import PRESETS

    assert set(CHECKS) == set(PRESETS)


@pytest.mark.parametrize("table,key", [
    ('domain = "api.example.com"\napi_id = "a1b2c3d4e5"\nload_balancer = "my-alb"', "api_domain.api_id"),
    ('domain = "api.example.com"', "api_domain.api_id"),
    ('domain = "api.example.com"\nload_balancer = "my-alb"\nbase_path = "v1"', "api_domain.base_path"),
    ('domain = "example.com"\napi_id = "a1b2c3d4e5"', "api_domain.domain"),
])
def test_api_domain_rules_hold_when_the_config_loads(tmp_path: Path, table: str, key: str) -> None:
    text = f'app = "shop"\npreset = "api-domain"\n\n[dns]\nprovider = "godaddy"\n\n[api_domain]\n{table}\n'
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert caught.value.key == key
