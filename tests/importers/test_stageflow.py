"""stageflow pipelines: the reference pipeline (shared/acceptance) imports with nothing untranslated
and runs to `succeeded` on both paths of its condition, on a real worker."""

import json
import uuid

import pytest

import examples.stageflow_stages  # noqa: F401  (registers stage.InitStage, WorkerAStage, WorkerBStage here)
from importers import services
from importers.report import NotThisFormat
from tests.conftest import WorkerProcess, wait_for_execution
from tests.support.shared import shared_file
from executions import starting
from nodes.validation import validate_document

STAGE_MODULES = "tests.support.nodes,examples.stageflow_stages"


def reference():
    return json.loads(shared_file("acceptance", "stageflow_demo_full_flow.json").read_text())


def test_the_reference_pipeline_imports_with_nothing_untranslated():
    document, report = services.translate("stageflow", reference())
    assert report["untranslated"] == [] and report["warnings"] == []
    assert {entry["from"]: entry["type"] for entry in report["translated"]} == {
        "start": "stage.InitStage", "decide": "logic.switch", "fanout": "flow.noop",
        "branch_a": "stage.WorkerAStage", "branch_b": "stage.WorkerBStage", "finish": "flow.terminal"}
    nodes = {node["id"]: node for node in document["nodes"]}
    assert nodes["entry_trigger"]["type"] == "trigger.manual"
    assert nodes["start"]["params"] == {"config": {"mode": "demo"},
                                        "arguments": {"user_id": "input.user_id", "text": "input.text"},
                                        "outputs": {"score": "vars.score", "need_parallel": "vars.need_parallel"}}
    assert nodes["decide"]["params"]["cases"] == [
        {"name": "case_1", "condition": {"==": [{"var": "vars.need_parallel"}, True]}}]
    assert nodes["fanout_join"]["type"] == "flow.merge"
    edges = {(e["from"], e.get("port", "main"), e["to"]) for e in document["edges"]}
    assert {("decide", "case_1", "fanout"), ("decide", "default", "finish"), ("fanout", "main", "branch_a"),
            ("fanout", "main", "branch_b"), ("branch_a", "main", "fanout_join"), ("branch_b", "main", "fanout_join"),
            ("fanout_join", "main", "finish")} <= edges
    assert validate_document(document) == []


def test_a_stage_that_is_not_registered_imports_with_a_validation_error_naming_it():
    pipeline = reference()
    pipeline["nodes"][0]["stage"] = "MissingStage"
    document, report = services.translate("stageflow", pipeline)
    assert report["untranslated"] == []
    assert any("MissingStage" in warning for warning in report["warnings"])
    errors = [e for e in validate_document(document) if e.get("node_id") == "start"]
    assert errors and "stage.MissingStage" in errors[0]["message"]


def test_a_document_that_is_not_a_pipeline_is_refused():
    with pytest.raises(NotThisFormat, match="not a stageflow pipeline"):
        services.translate("stageflow", {"nodes": [], "connections": {}})


class _IsolatedWorker(WorkerProcess):
    """A worker with the stage types loaded, listening under its own broker key prefix so that
    another test worker (without the stages) never takes its tasks."""

    def __init__(self):
        self.prefix = f"nodeflow-stages-{uuid.uuid4().hex[:8]}:"
        super().__init__(concurrency=1, env={"NODEFLOW_NODE_MODULES": STAGE_MODULES,
                                             "NODEFLOW_BROKER_PREFIX": self.prefix})

    def app(self):
        from celery import Celery
        from django.conf import settings

        app = Celery("stage-tests", set_as_current=False)
        app.conf.update(broker_url=settings.CELERY_BROKER_URL,
                        broker_transport_options={"global_keyprefix": self.prefix},
                        task_serializer="json", accept_content=["json"])
        return app

    def _wait_ready(self, timeout):
        import os
        import time

        app, hostname = self.app(), self.name.replace("%h", os.uname().nodename)
        deadline = time.monotonic() + timeout
        while not app.control.ping(destination=[hostname], timeout=0.5):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the stage worker is not up; log: {self.log_path}")


@pytest.fixture(scope="module")
def stage_worker(django_db_setup, django_db_blocker):
    from tests.nodes.test_registered_nodes import PrefixDispatcher

    worker = _IsolatedWorker()
    with django_db_blocker.unblock():
        worker.start()
    yield PrefixDispatcher(worker.app())
    worker.stop()


@pytest.mark.parametrize("text, parallel", [("a long enough text", True), ("short", False)])
def test_the_reference_pipeline_runs_on_both_paths_on_a_worker(text, parallel, stage_worker, transactional_db,
                                                               django_user_model):
    owner = django_user_model.objects.create_user(f"stages-{uuid.uuid4().hex[:6]}")
    workflow, errors, report = services.import_workflow(owner, "stageflow", reference())
    assert errors == [] and report["untranslated"] == []
    started = starting.run_workflow(workflow, input_data={"user_id": "u-1", "text": text},
                                             dispatcher=stage_worker)
    execution = wait_for_execution(started.pk, timeout=60)
    assert execution.status == "succeeded", execution.error
    score = len(text)
    assert execution.result == {"status": "ok", "artifacts": {
        "score": score, "a_result": score * 2 if parallel else None, "b_result": score + 100 if parallel else None}}
    ran = dict(execution.node_runs.values_list("node_id", "status"))
    assert ran["branch_a"] == ran["branch_b"] == ("completed" if parallel else "skipped")
    assert execution.node_runs.exclude(worker="").exists()  # ran on the worker, not in this process
