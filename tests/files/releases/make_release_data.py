"""Write the data directory a released version leaves after a term's loop, for the upgrade test
(tests/hub/test_upgrade.py).

    .venv/bin/python tests/files/releases/make_release_data.py v0.1.0

The tagged commit is checked out into a scratch folder and installed there with its own
`make test-deps` (its own venv: nothing of this tree runs). Its own teaching-loop test then runs a
class of three through release, submit, collect, autograde, a hand-given score and feedback on a
real hub; the data directory it leaves is packed (without run/ and warm/, which a stopped platform
does not need) as tests/files/releases/<tag>/data.tar.xz, with what the test compares after the
upgrade: the grade sheet that release exports (grades.csv) and every notebook's and feedback
file's checksum (files.json). Run it again for each new release; it takes about 10 minutes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
OFFERING = "python-co-ban-10a3-2025-2026"  # the offering of the release's tests/hub/test_teaching_loop.py
LOOP = ["tests/hub/test_teaching_loop.py::test_release_submit_collect_grade_feedback_export",
        "tests/hub/test_teaching_loop.py::test_a_late_submission_is_marked_late_and_a_broken_one_is_reported_not_lost"]


def checksums(data: Path) -> dict[str, str]:
    """What students handed in, got back and keep, and what the offerings hold."""
    places = [*(data / "homes").rglob("*.ipynb"), *(data / "homes").rglob("*.html"),
              *(data / "exchange").rglob("*.ipynb"), *(data / "offerings").rglob("*.ipynb"),
              *(data / "accounts" / "sheets").glob("*.csv")]
    return {str(p.relative_to(data)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(places) if ".ipynb_checkpoints" not in p.parts}


def main(tag: str) -> None:
    scratch = Path(tempfile.mkdtemp(prefix=f"stemlab-{tag}-"))
    tree = scratch / "tree"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), tag], check=True)
    try:
        subprocess.run(["make", "test-deps"], cwd=tree, check=True, stdout=subprocess.DEVNULL)
        basetemp = scratch / "pytest"
        subprocess.run([str(tree / ".venv/bin/python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        f"--basetemp={basetemp}", *LOOP], cwd=tree, check=True)
        found = sorted(basetemp.glob("loop[0-9]*/var"))
        assert len(found) == 1, f"the loop's data directory, one of: {found}"
        data = found[0]
        subprocess.run([str(tree / ".venv/bin/stemlab"), "grades", "export", OFFERING, "--data", str(data)],
                       check=True)
        out = HERE / tag
        out.mkdir(exist_ok=True)
        shutil.copy(data / "grades" / f"{OFFERING}-grades.csv", out / "grades.csv")
        (out / "files.json").write_text(json.dumps(checksums(data), indent=1, ensure_ascii=False) + "\n")
        with tarfile.open(out / "data.tar.xz", "w:xz") as tar:
            tar.add(data, arcname="var", filter=lambda info: None if info.name.split("/")[1:2] in (["run"], ["warm"])
                    or info.type not in (tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE) else info)
        print(f"wrote {out}: {(out / 'data.tar.xz').stat().st_size / 1024:.0f} KB")
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], check=False)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "v0.1.0")
