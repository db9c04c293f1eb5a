"""`nodeflow test FILE.json [--case NAME]`: a document's workflow tests run in this process, for a
user's CI. Exit codes: 0 every case passed, 1 a case failed, 2 the document or the command is wrong
(invalid document, no tests, an unknown case name)."""

import json

from executions.testing import CaseNotFound, chosen_cases, run_cases_here
from nodes.validation import validate_document
from workflows.services import with_node_versions


def test_document(document, names, *, out):
    document = with_node_versions(document)
    errors = validate_document(document)
    if errors:
        for error in errors:
            out.write(f"{error['code']}: {error['message']}\n")
        out.write(f"{len(errors)} error(s): the tests did not run\n")
        return 2
    try:
        cases = chosen_cases(document, names)
    except CaseNotFound as exc:
        out.write(f"{exc}\n")
        return 2
    if not cases:
        out.write("the document has no tests\n")
        return 2
    report = run_cases_here(document, cases)
    for case in report["cases"]:
        out.write(f"{'PASS' if case['ok'] else 'FAIL'}  {case['name']}  ({case['status']}, "
                  f"{case['duration_ms'] or 0:.0f} ms)\n")
        for failure in case["failures"]:
            out.write(f"      {failure['path']}: expected {_show(failure['expected'])}, got "
                      f"{'nothing' if failure.get('missing') else _show(failure['actual'])}"
                      + (f" ({failure['error']})" if failure.get("error") else "") + "\n")
    out.write(f"{report['passed']} passed, {report['failed']} failed\n")
    return 0 if report["failed"] == 0 else 1


def _show(value):
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 200 else text[:197] + "..."
