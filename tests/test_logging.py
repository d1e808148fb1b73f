"""journald-friendly logging: under systemd no timestamp of ours and sd-daemon ``<N>`` priority
prefixes on every line; on a terminal timestamps and level names."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bantz_voice import logsetup

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def restore_root_logging():
    root, package = logging.getLogger(), logging.getLogger("bantz_voice")
    handlers, level, package_level = list(root.handlers), root.level, package.level
    package.setLevel(logging.NOTSET)  # what configure() sets is the root's level: nothing below may filter
    yield
    package.setLevel(package_level)
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)


def _journal_env(path: Path) -> dict[str, str]:
    st = os.stat(path)
    return {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}


def test_journal_lines_carry_priority_and_no_timestamp(tmp_path: Path, restore_root_logging: None) -> None:
    out = tmp_path / "stderr"
    with out.open("w") as stream:
        logsetup.configure("DEBUG", stream=stream, environ=_journal_env(out))
        log = logging.getLogger("bantz_voice.test")
        log.debug("ayrıntı")
        log.info("bilgi")
        log.warning("uyarı")
        log.error("iki\nsatır")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("yakalandı")
    lines = out.read_text().splitlines()
    assert lines[:5] == [
        "<7>bantz_voice.test: ayrıntı",
        "<6>bantz_voice.test: bilgi",
        "<4>bantz_voice.test: uyarı",
        "<3>bantz_voice.test: iki",
        "<3>satır",
    ]
    assert all(line.startswith("<3>") for line in lines[5:]) and "ValueError: boom" in lines[-1]
    assert not any(re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", line) for line in lines)


def test_terminal_lines_have_timestamps_and_levels(tmp_path: Path, restore_root_logging: None) -> None:
    out = tmp_path / "stderr"
    with out.open("w") as stream:
        logsetup.configure("INFO", stream=stream, environ={})
        logging.getLogger("bantz_voice.test").warning("uyarı")
    line = out.read_text().strip()
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING bantz_voice\.test: uyarı$", line)


def test_journal_stream_of_another_file_is_ignored(tmp_path: Path, restore_root_logging: None) -> None:
    # a child whose stderr was redirected inherits JOURNAL_STREAM but is not writing to the journal
    other = tmp_path / "other"
    other.write_text("")
    out = tmp_path / "stderr"
    with out.open("w") as stream:
        assert not logsetup.under_journald(stream, _journal_env(other))
        assert logsetup.under_journald(stream, _journal_env(out))


def test_cli_logs_in_journal_format_under_systemd(tmp_path: Path) -> None:
    # the real entry point (main() sets logging up), with stderr being the "journal" file
    err = tmp_path / "stderr"
    code = (
        "import logging, sys; from bantz_voice.cli import main; rc = main(['-v', 'models', 'list']); "
        "logging.getLogger('bantz_voice.probe').warning('deneme uyarısı'); sys.exit(rc)"
    )
    with err.open("w") as fh:
        env = {**os.environ, **_journal_env(err), "PYTHONPATH": str(REPO)}
        res = subprocess.run([sys.executable, "-c", code], stderr=fh, stdout=subprocess.DEVNULL, env=env, timeout=120)
    assert res.returncode == 0
    lines = [line for line in err.read_text().splitlines() if line]
    assert "<4>bantz_voice.probe: deneme uyarısı" in lines
    assert all(re.match(r"^<[0-7]>", line) for line in lines), lines
