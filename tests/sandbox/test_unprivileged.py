"""The escape suite again, with the worker itself running as an unprivileged user.

As root (as in CI) this runs tests/sandbox/test_escapes.py in a pytest process under
uid 65534, with the Python-level guards off (the `os_walls_only` half): what changes for
an unprivileged worker is how bubblewrap, the uid and seccomp are set up, not the
audit hook. Run as a non-root user, the whole suite already is this case.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .test_escapes import CASES

REPO = Path(__file__).resolve().parents[2]
NOBODY = 65534

# As root, in a private mount namespace: cover the first directory on the way to the
# interpreter that uid 65534 cannot traverse (pyenv under /root) with a tmpfs, and
# bind the interpreter back at its own path. Nothing is visible outside the namespace.
EXPOSE_INTERPRETER = r"""
set -eu
home=$1; hidden=$2; stage=$3; shift 3
if [ -n "$hidden" ]; then
  mount -t tmpfs -o mode=0755 nodeflow-test-stage "$stage"
  mkdir "$stage/python"
  mount --bind "$home" "$stage/python"
  mount -t tmpfs -o mode=0755 nodeflow-test-hidden "$hidden"
  mkdir -p "$home"
  mount --bind "$stage/python" "$home"
fi
exec "$@"
"""


def first_untraversable(path: str) -> str:
    parts = os.path.realpath(path).split("/")
    for i in range(2, len(parts) + 1):
        ancestor = "/".join(parts[:i])
        if not os.stat(ancestor).st_mode & 0o001:
            return ancestor
    return ""


@pytest.mark.skipif(os.geteuid() != 0, reason="already unprivileged: the main run is this case")
def test_escape_suite_passes_for_an_unprivileged_worker(require_full_sandbox):
    for tool in ("unshare", "setpriv", "mount"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed")
    home = os.path.realpath(sys.base_prefix)
    hidden = first_untraversable(home)
    stage = "/mnt" if hidden != "/mnt" else "/media"
    command = [
        "unshare", "--mount", "--propagation", "private", "--",
        "/bin/sh", "-c", EXPOSE_INTERPRETER, "expose", home, hidden, stage,
        "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
        "--inh-caps=-all",
        sys.executable, "-m", "pytest", "tests/sandbox/test_escapes.py", "-q", "-k", "os_walls_only",
        "-p", "no:django", "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestConfigWarning",
    ]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp",
           "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8"}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=240)
    report = done.stdout[-4000:] + done.stderr[-2000:]
    assert done.returncode == 0, report
    passed = re.search(r"(\d+) passed", report)
    # Every case the OS walls must stop: none may be skipped for lack of bubblewrap
    # or seccomp.
    expected = sum(1 for _code, _all, os_only in CASES.values() if os_only is not None)
    assert passed and int(passed.group(1)) == expected, report
