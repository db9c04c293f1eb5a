"""docs/ARCHITECTURE.md stays true: every file it names exists, and every `file.py:function` is defined there."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
# `executions/starting.py`, `triggers/webhooks.py:accept`, `executions/models.py:Definition.store`, `nodes/http_request/`
NAMED = re.findall(r"`([a-z_]+(?:/[a-z_]+)*(?:/[a-z_]+\.py|/))(?::([A-Za-z_.]+))?`", DOC)
# The table of executions/ names its files bare: `transition.py`, `live.py`, `consumers.py`, …
TABLE = re.findall(r"`([a-z_]+\.py)`", DOC[DOC.index("Inside `executions/`"):DOC.index("## One webhook request")])


def test_the_document_names_files_and_functions():
    assert len(NAMED) > 30 and len(TABLE) > 10


def test_every_file_it_names_exists():
    missing = [path for path, _ in NAMED if not (ROOT / path).exists()]
    missing += [f"executions/{name}" for name in TABLE if not (ROOT / "executions" / name).exists()]
    assert not missing, f"docs/ARCHITECTURE.md names files that do not exist: {missing}"


def test_every_function_it_names_is_defined_in_its_file():
    missing = []
    for path, name in NAMED:
        if not name:
            continue
        source = (ROOT / path).read_text()
        last = name.split(".")[-1]
        if not re.search(rf"^\s*(?:async\s+)?(?:def|class)\s+{re.escape(last)}\b", source, flags=re.M):
            missing.append(f"{path}:{name}")
    assert not missing, f"docs/ARCHITECTURE.md names functions that do not exist: {missing}"
