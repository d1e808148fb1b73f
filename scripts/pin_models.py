#!/usr/bin/env python3
"""Pin manifest entries to a hub commit: print the commit, sha256 and size of every file.

    .venv/bin/python scripts/pin_models.py [NAME ...]      (default: every entry with a hub source)

For each file, a HEAD request (huggingface_hub's ``get_hf_file_metadata``) at the entry's current
revision gives the commit it resolves to, the size and — for an LFS file — the sha256 from the
hub's own LFS metadata. A small file outside LFS has only a git blob id there: it is downloaded
(kilobytes) and hashed. Paste the printed hub source (``revision``, ``pinned_from``, ``sha256``,
``size``) into ``bantz_voice/data/manifest.yaml`` in place of the entry's hub source (dropping its
``unpinned`` reason). Needs the internet (or ``HF_ENDPOINT``); nothing is written.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def pin(name: str) -> str:
    from datetime import date

    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    from bantz_voice.models import entry
    from bantz_voice.models.hub import SHA256_RE, download_file, endpoint

    e = entry(name)
    src = e.hub
    if src is None:
        raise SystemExit(f"{name}: no hub source")
    files = src.files_of(e)
    commit = src.revision
    sha: dict[str, str] = {}
    size: dict[str, int] = {}
    for f in files:
        path = src.repo_path(f)
        meta = get_hf_file_metadata(hf_hub_url(src.repo, path, revision=commit, endpoint=endpoint()))
        commit = meta.commit_hash or commit  # the later files at the same commit
        etag = (meta.etag or "").lower()
        if SHA256_RE.match(etag):
            sha[f], size[f] = etag, int(meta.size or 0)
        else:  # outside LFS: download (checked against its git blob id) and hash
            with tempfile.TemporaryDirectory() as tmp:
                _, p = download_file(repo=src.repo, revision=commit, repo_path=path, dest=Path(tmp) / f, progress="none")
                sha[f], size[f] = p.sha256, p.size
    lines = [f"  {name}:", "    sources:", "      - hub:", f"          repo: {src.repo}", f"          revision: {commit}",
             f"          pinned_from: scripts/pin_models.py against {endpoint()} on {date.today().isoformat()}"]
    if src.path:
        lines.append(f"          path: {src.path}")
    if src.files is not None:
        lines.append(f"          files: [{', '.join(files)}]")
    lines += ["          sha256:"] + [f"            {f}: {sha[f]}" for f in files]
    lines += ["          size:"] + [f"            {f}: {size[f]}" for f in files]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*")
    args = ap.parse_args()
    from bantz_voice.models import load_manifest

    names = args.names or [n for n, e in load_manifest().models.items() if e.hub is not None]
    for name in names:
        print(pin(name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
