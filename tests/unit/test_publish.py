"""publish.walk: links stay inside, private files stay home unless included, names fit S3."""

from __future__ import annotations

from pathlib import Path

import pytest

from tscloud_py.build.publish import (
    MAX_KEY_BYTES,
    UnsafeTreeError,
    inside_project,
    is_private,
    walk,
)
from tscloud_py.errors import ConfigError


def test_private_names() -> None:
    for rel in (".env", ".env.production", "a/.git/config", ".aws/credentials", "keys/server.pem", "id_rsa",
                "deep/id_ed25519.pub", "tls.key"):
        assert is_private(rel), rel
    for rel in ("index.html", "assets/app-1a2b3c4d.js", "env.js", "docs/ids.txt"):
        assert not is_private(rel), rel


def test_links_inside_are_followed_once_and_links_out_refused(tmp_path: Path) -> None:
    root = tmp_path / "dist"
    (root / "a").mkdir(parents=True)
    (root / "a" / "page.html").write_text("x")
    (root / "alias").symlink_to(root / "a")  # a directory link that stays inside
    (root / "a" / "loop").symlink_to(root)  # a link back up: not walked twice
    tree = walk(root)
    assert set(tree.files) == {"a/page.html", "alias/page.html"}

    (tmp_path / "outside.txt").write_text("secret")
    (root / "a" / "leak").symlink_to(tmp_path / "outside.txt")
    with pytest.raises(UnsafeTreeError) as caught:
        walk(root)
    assert caught.value.rel == "a/leak" and "outside" in caught.value.problem


def test_private_files_are_held_back_unless_included(tmp_path: Path) -> None:
    root = tmp_path / "dist"
    (root / ".git" / "objects").mkdir(parents=True)
    (root / ".git" / "objects" / "ab").write_text("blob")
    (root / ".well-known").mkdir()
    (root / ".well-known" / "security.txt").write_text("c")
    (root / ".env").write_text("K=V")
    (root / "index.html").write_text("i")
    tree = walk(root)
    assert set(tree.files) == {"index.html"}
    assert sorted(tree.private) == [".env", ".git/", ".well-known/"]
    tree = walk(root, include=[".well-known/*"])
    assert set(tree.files) == {"index.html", ".well-known/security.txt"}
    assert walk(root, skip_private=False).files.keys() >= {".env", ".git/objects/ab"}


def test_keys_over_the_s3_limit_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "dist"
    deep = root
    for _ in range(5):
        deep = deep / ("d" * 200)
    deep.mkdir(parents=True)
    (deep / "file.txt").write_text("x")
    walk(root)  # 5 * 201 + 8 bytes fit
    with pytest.raises(UnsafeTreeError, match=str(MAX_KEY_BYTES)):
        walk(root, key_prefix="p" * 40)


def test_inside_project(tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    assert inside_project("t.toml", "site.dir", tmp_path, "dist", allow_outside=False) == (tmp_path / "dist").resolve()
    with pytest.raises(ConfigError, match=r"site\.dir: /etc resolves to /etc, outside the project"):
        inside_project("t.toml", "site.dir", tmp_path, "/etc", allow_outside=False)
    notes: list[str] = []
    assert inside_project("t.toml", "site.dir", tmp_path, "/etc", allow_outside=True, notices=notes) == Path("/etc")
    assert notes and "allow_outside" in notes[0]


@pytest.mark.parametrize("preset", ["static-site", "fullstack-app"])
def test_the_upload_takes_the_walk_the_preset_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      preset: str) -> None:
    """A site is walked once per run: the preset's check of what it publishes, which the upload then lists."""
    import tscloud_py.build.publish as publish
    from tscloud_py.aws.session import ClientFactory
    from tscloud_py.config.load import config_from_dict
    from tscloud_py.presets import load_preset
    from tscloud_py.presets.steps import upload as upload_module

    (tmp_path / "dist" / "a").mkdir(parents=True)
    (tmp_path / "dist" / "index.html").write_text("<h1>hi</h1>")
    (tmp_path / "dist" / "a" / "b.css").write_text("b{}")
    (tmp_path / "dist" / ".env").write_text("SECRET=1")
    raw: dict[str, object] = {"app": "shop", "preset": preset, "site": {"dir": "dist"}}
    if preset == "fullstack-app":
        raw["api"] = {"image": "nginx:1.27"}
    config = config_from_dict(raw, "tscloud.toml", base_dir=tmp_path, region="us-east-1")
    the_preset = load_preset(config, ClientFactory(region="us-east-1"))
    upload = next(s for s in the_preset.steps() if s.id == "upload")
    walks: list[Path] = []
    real_walk = publish.walk
    for module in (publish, upload_module):  # the check's walk, and the one the upload would make
        monkeypatch.setattr(module, "walk", lambda root, **kw: walks.append(root) or real_walk(root, **kw))
    the_preset.validate()
    assert sorted(upload.tree) == ["a/b.css", "index.html"]  # the private .env held back, as the check said
    assert walks == [tmp_path / "dist"]
