"""scripts/setup.sh: the run-time apt set never touches the sound system; early checks; refusal
when apt would remove a package; `make run` vs `make test` sets."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SETUP = REPO / "scripts" / "setup.sh"

needs_apt = pytest.mark.skipif(not shutil.which("apt-cache"), reason="apt-cache missing (not a Debian system)")


def apt_set(kind: str) -> list[str]:
    res = subprocess.run(["bash", str(SETUP), "--print-apt", kind], capture_output=True, text=True, check=True)
    return res.stdout.splitlines()


def test_print_apt_prints_one_package_a_line_and_sets_are_disjoint() -> None:
    run, test = apt_set("run"), apt_set("test")
    for pkgs in (run, test):
        assert pkgs and all(re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", p) for p in pkgs)
    assert not set(run) & set(test)
    assert "pulseaudio" in test and "pulseaudio" not in run
    assert "libportaudio2" in run  # sounddevice needs PortAudio at run time
    bad = subprocess.run(["bash", str(SETUP), "--print-apt", "all"], capture_output=True, text=True)
    assert bad.returncode == 2


# --- apt's own metadata: the run-time set against pipewire-audio --------------------------------
def _closure(pkgs: list[str]) -> set[str]:
    """Packages installed with ``pkgs`` (Depends/Pre-Depends, recursively, as setup installs them:
    without recommends). Virtual packages show up as <name>; they are kept as names too."""
    res = subprocess.run(
        ["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
         "--no-breaks", "--no-replaces", "--no-enhances", *pkgs],
        capture_output=True, text=True, check=True, env={**os.environ, "LC_ALL": "C"},
    )
    out: set[str] = set()
    for line in res.stdout.splitlines():
        m = re.match(r"^\s*(?:\|?(?:Pre)?Depends: )?<?([a-z0-9][a-z0-9+.-]+?)(?::\w+)?>?$", line)
        if m:
            out.add(m.group(1))
    return out


def _conflicts(pkg: str) -> set[str]:
    """Names in the Conflicts and Breaks fields of ``pkg`` (its candidate version)."""
    res = subprocess.run(["apt-cache", "show", "--no-all-versions", pkg], capture_output=True, text=True, check=True)
    names: set[str] = set()
    for line in res.stdout.splitlines():
        field, _, value = line.partition(":")
        if field in ("Conflicts", "Breaks"):
            for alt in re.split(r"[,|]", value):
                name = alt.strip().split(" ")[0].split(":")[0]
                if name:
                    names.add(name)
    return names


def _known(pkg: str) -> bool:
    res = subprocess.run(["apt-cache", "show", "--no-all-versions", pkg], capture_output=True, text=True)
    return res.returncode == 0 and "Package:" in res.stdout


@needs_apt
def test_runtime_set_holds_nothing_pipewire_audio_conflicts_with() -> None:
    if not _known("pipewire-audio"):
        pytest.skip("apt does not know pipewire-audio here")
    against = _conflicts("pipewire-audio")
    assert "pulseaudio" in against  # what apt says on Debian 12 / Ubuntu 24.04; read, not assumed
    run = apt_set("run")
    installed_with_run = _closure(run) | set(run)
    assert not installed_with_run & against, f"run-time set pulls in {installed_with_run & against}"
    # the same check catches the test-only set (the reason it is test-only)
    test_closure = _closure(apt_set("test")) | set(apt_set("test"))
    assert test_closure & against


# --- the apt step, with apt-get/dpkg-query stand-ins on PATH (a real install would change this
# machine; the simulator only replays apt's output format: "Inst x" / "Remv y") ---------------
def _fake_bin(tmp_path: Path, simulate_output: str) -> tuple[Path, Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"
    (bin_dir / "dpkg-query").write_text("#!/bin/sh\nexit 1\n")  # nothing installed
    (bin_dir / "apt-get").write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> "{log}"\n'
        'case " $* " in *" -s "*) cat <<"EOF"\n' + simulate_output + "\nEOF\n;; esac\nexit 0\n"
    )
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    return bin_dir, log


def _run_setup(bin_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    e = {k: v for k, v in os.environ.items() if k not in ("BANTZ_SKIP_APT", "PYTHON")}
    e["PATH"] = f"{bin_dir}:{e['PATH']}"
    e.update(env)
    return subprocess.run(["bash", str(SETUP), "--apt-only", *args], capture_output=True, text=True, env=e, timeout=60)


def test_setup_refuses_when_apt_would_remove_a_package(tmp_path: Path) -> None:
    bin_dir, log = _fake_bin(tmp_path, "Remv pipewire-audio [0.3.65-3]\nInst pulseaudio (16.1)")
    res = _run_setup(bin_dir, "--test")
    assert res.returncode == 1
    assert "pipewire-audio" in res.stderr and "hiçbir şey kurulmadı" in res.stderr
    calls = log.read_text().splitlines()
    assert any(" -s " in f" {c} " for c in calls)
    assert not any("-y" in c.split() for c in calls)  # nothing was installed


def test_setup_installs_only_the_runtime_set_without_recommends(tmp_path: Path) -> None:
    bin_dir, log = _fake_bin(tmp_path, "Inst libportaudio2 (19.6)")
    res = _run_setup(bin_dir)
    assert res.returncode == 0, res.stderr
    if os.getuid() != 0 and not shutil.which("sudo"):
        assert "sudo apt-get install" in res.stderr
        return
    installs = [c.split() for c in log.read_text().splitlines() if "-y" in c.split()]
    assert len(installs) == 1 and "--no-install-recommends" in installs[0]
    assert set(apt_set("run")) <= set(installs[0]) and "pulseaudio" not in installs[0]


def test_test_mode_adds_the_test_set(tmp_path: Path) -> None:
    bin_dir, log = _fake_bin(tmp_path, "Inst pulseaudio (16.1)")
    res = _run_setup(bin_dir, "--test")
    assert res.returncode == 0, res.stderr
    sim = next(c.split() for c in log.read_text().splitlines() if "-s" in c.split())
    assert set(apt_set("run")) | set(apt_set("test")) <= set(sim)


def test_old_python_is_named_in_one_turkish_line_before_anything_else(tmp_path: Path) -> None:
    bin_dir, log = _fake_bin(tmp_path, "")
    (bin_dir / "python3.10").write_text("#!/bin/sh\nexit 1\n")  # fails the >= 3.11 check
    (bin_dir / "python3.10").chmod(0o755)
    res = _run_setup(bin_dir, PYTHON="python3.10")
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Python ≥ 3.11" in lines[0] and "apt-get install" in lines[0]
    assert not log.exists()  # refused before apt (and before the llama.cpp build)


def test_make_run_installs_the_runtime_set_and_make_test_the_test_set() -> None:
    if not shutil.which("make"):
        pytest.skip("make missing")
    env = {**os.environ, "MAKEFLAGS": ""}
    run = subprocess.run(["make", "-n", "-B", "run"], cwd=REPO, capture_output=True, text=True, env=env, check=True).stdout
    test = subprocess.run(["make", "-n", "-B", "test"], cwd=REPO, capture_output=True, text=True, env=env, check=True).stdout
    assert "bash scripts/setup.sh\n" in run and "--test" not in run
    assert "bash scripts/setup.sh --test" in test
    # ruff and mypy (pyproject.toml) run after the set-up and before pytest
    steps = test.splitlines()
    at = {word: next(i for i, ln in enumerate(steps) if word in ln) for word in ("setup.sh --test", "ruff check", "mypy", "pytest")}
    assert at["setup.sh --test"] < at["ruff check"] < at["pytest"] and at["mypy"] < at["pytest"], steps
    assert (REPO / ".ci" / "run").read_text().count("make test") == 1
