"""`python manage.py nodeflow validate FILE.json`."""

import json

import pytest
from django.core.management import call_command

from tests.workflows.documents import changed, document, edge


def run_validate(tmp_path, doc, capsys):
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(SystemExit) as exited:
        call_command("nodeflow", "validate", str(path))
    return exited.value.code, capsys.readouterr().out


def test_validate_prints_valid_and_exits_0(tmp_path, capsys):
    code, out = run_validate(tmp_path, document(), capsys)

    assert code == 0
    assert out.strip() == "valid"


def test_validate_prints_every_error_and_exits_1(tmp_path, capsys):
    doc = changed(document(), lambda d: (d["edges"].append(edge("work", "ghost")), d.update(extra=1)))

    code, out = run_validate(tmp_path, doc, capsys)

    assert code == 1
    assert "unknown_key: unknown key 'extra'" in out
    assert "edge_to_missing_node: edge to 'ghost'" in out
    assert out.strip().endswith("2 error(s)")
