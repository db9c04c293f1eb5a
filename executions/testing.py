"""Running workflow tests (DEBUGGING.md): each case is a real execution of the draft (trigger `test`)
with its pins in force, watched until it ends or makes more than `max_steps` node runs, then checked
by engine.testcases.

Two ways to run them: on the workers (the API: the cases start at once and run in parallel, this
process only watches the database) or in this process (`nodeflow test FILE.json`, a user's CI)."""

import time

from engine import testcases
from engine.pins import pins_of
from engine.states import EXECUTION_FINAL
from executions import services
from executions.contexts import context_after, load_node_entries
from executions.inline import InlineDispatcher
from executions.models import Execution, NodeRun
from executions.starting import InvalidInput, start_execution

POLL_S = 0.05


class CaseNotFound(LookupError):
    """A case name asked for is not among the document's tests."""


def chosen_cases(document, names=None):
    """The document's test cases, or those named; CaseNotFound names any that are missing."""
    cases = [case for case in document.get("tests") or [] if isinstance(case, dict)]
    if not names:
        return cases
    known = {case.get("name") for case in cases}
    missing = [name for name in names if name not in known]
    if missing:
        raise CaseNotFound(f"no test case named {', '.join(map(repr, missing))} (cases: "
                           f"{', '.join(repr(name) for name in sorted(known)) or 'none'})")
    return [case for case in cases if case.get("name") in names]


def case_document(document, case):
    """The document a case runs: the draft with its pins and the case's, without its tests."""
    run = {key: value for key, value in document.items() if key not in ("tests", "pins")}
    pins = testcases.case_pins(pins_of(document), case)
    if pins:
        run["pins"] = pins
    return run


def run_cases(document, cases, *, dispatcher, owner_id=None, workflow=None, revision=None, timeout_s=300):
    """Start every case on the workers, watch them, and return the report."""
    started = []
    for case in cases:
        try:
            execution = start_execution(case_document(document, case), dispatcher=dispatcher, owner_id=owner_id,
                                        workflow=workflow, revision=revision, input_data=case.get("input"),
                                        trigger="test")
        except InvalidInput as exc:
            started.append((case, None, str(exc)))
            continue
        started.append((case, execution.pk, None))
    deadline = time.monotonic() + timeout_s
    results = []
    for case, execution_id, refused in started:
        if refused is not None:
            results.append(_refused(case, refused))
            continue
        stopped = _watch(execution_id, testcases.max_steps(case), dispatcher, deadline)
        results.append(_result(case, execution_id, stopped))
    return testcases.report(results)


def run_cases_here(document, cases, *, owner_id=None):
    """Run every case in this process, one after the other (the command line), and return the report."""
    results = []
    for case in cases:
        dispatcher = StepLimitedDispatcher(testcases.max_steps(case))
        try:
            execution = start_execution(case_document(document, case), dispatcher=dispatcher, owner_id=owner_id,
                                        input_data=case.get("input"), trigger="test")
        except InvalidInput as exc:
            results.append(_refused(case, str(exc)))
            continue
        dispatcher.execution_id = execution.pk
        dispatcher.drain()
        stopped = None
        if dispatcher.exceeded is not None:
            stopped = dispatcher.exceeded
            _cancel(execution.pk, dispatcher, f"the test case made more than {dispatcher.max_steps} node runs")
            dispatcher.drain()
        results.append(_result(case, execution.pk, stopped))
    return testcases.report(results)


class StepLimitedDispatcher(InlineDispatcher):
    """The inline dispatcher, sending nothing more once the execution made more than `max_steps`
    node runs: every further step needs a dispatch, so a runaway case stops there.

    It sends after the commit, as the Celery dispatcher does: cancelling a case's loop then reaches
    the loop's children once the parent's cancel is committed (called inside that transaction, a
    child's end would lock and write the parent under the parent's own open transition)."""

    after_commit = True

    def __init__(self, max_steps):
        super().__init__()
        self.max_steps = max_steps
        self.execution_id = None
        self.exceeded = None

    def _over(self):
        if self.exceeded is None and self.execution_id is not None:
            steps = steps_of(self.execution_id)
            if steps > self.max_steps:
                self.exceeded = steps
        return self.exceeded is not None

    def dispatch(self, execution_id, starts):
        if not self._over():
            super().dispatch(execution_id, starts)

    def dispatch_later(self, execution_id, node_id, eta, reason, start=None):
        if reason == "execution_timeout" or not self._over():
            super().dispatch_later(execution_id, node_id, eta, reason, start)


def steps_of(execution_id):
    """Node runs started so far by the execution and its child executions (loops, groups, calls)."""
    ids, level = [execution_id], [execution_id]
    while level:
        level = list(Execution.objects.filter(parent_id__in=level).values_list("pk", flat=True))
        ids += level
    return NodeRun.objects.filter(execution_id__in=ids, started_at__isnull=False).count()


def _watch(execution_id, max_steps, dispatcher, deadline):
    """Wait for the execution to end; None, or the steps it made when it was stopped as runaway."""
    while True:
        status = Execution.objects.filter(pk=execution_id).values_list("status", flat=True).get()
        if status in EXECUTION_FINAL:
            return None
        steps = steps_of(execution_id)
        if steps > max_steps or time.monotonic() > deadline:
            _cancel(execution_id, dispatcher, f"the test case made more than {max_steps} node runs"
                    if steps > max_steps else "the test run's time ran out")
            return steps if steps > max_steps else None
        time.sleep(POLL_S)


def _cancel(execution_id, dispatcher, reason):
    try:
        services.cancel_execution(execution_id, dispatcher=dispatcher, reason=reason)
    except services.NotAllowed:
        pass  # it ended meanwhile


def _result(case, execution_id, stopped):
    execution = Execution.objects.get(pk=execution_id)
    entries = load_node_entries(execution_id, NodeRun.objects.filter(execution_id=execution_id).values_list(
        "node_id", flat=True))
    nodes = {node_id: {"status": entry["status"], "output": entry["output"]} for node_id, entry in entries.items()}
    _, context = context_after(execution)
    context = {**context, "nodes": nodes, "result": execution.result, "status": execution.status}
    finished = {"status": execution.status, "result": execution.result, "nodes": nodes, "context": context}
    failures = testcases.check_case(case.get("expect"), finished)
    if stopped is not None:
        failures.insert(0, {"path": "max_steps", "expected": testcases.max_steps(case), "actual": stopped})
    return {"name": case.get("name"), "ok": not failures, "execution_id": str(execution_id),
            "status": execution.status, "duration_ms": execution.duration_ms, "failures": failures}


def _refused(case, message):
    return {"name": case.get("name"), "ok": False, "execution_id": None, "status": None, "duration_ms": None,
            "failures": [{"path": "input", "expected": "an input matching input_schema", "actual": case.get("input"),
                          "error": message}]}
