"""A 500-node execution in the execution view: how long it takes to open, and how the page keeps up
while the run's events stream in over the WebSocket (PRODUCT.md §4, issue 11).

The execution is real (rows made by starting.start_execution); its events are written to the event log
and broadcast on the Channels layer exactly as the engine does it, at a steady rate the test controls,
so the figures measure the page rather than how fast this shared machine runs 500 nodes.

Run `pytest -s tests/frontend/test_execution_scale.py` to see the figures; they are also written to
test-artifacts/frontend/perf-500-node-execution.json."""

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from executions import live
from executions.inline import InlineDispatcher
from executions.models import Execution, ExecutionEvent, NodeRun
from tests.frontend.conftest import ARTIFACTS, screenshot
from tests.frontend.editor import canvas_node, chains_of_twenty, sign_in
from executions import starting
from workflows import services

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

NODES = 500
# Events per node: queued, running, a log line, completed, its output available.
BATCH_NODES = 10  # nodes per broadcast: 50 events in one group_send, like a busy worker's transitions
BATCH_INTERVAL_S = 0.05  # between batches: with the writes, 300-1,000 events a second for 3-8 s

# Bounds. The goal is under 2 s to open (about 1.7-2.1 s here, minified, with the machine's load
# average above 3); this 2-core machine is shared with benchmarks and with the suite's other test
# processes (three at once), and runs several times slower under load (5.1 s to open once so), so the
# bounds are what no load explains: a canvas drawn once per event instead of once per frame falls
# seconds behind the stream, a draw of all 500 nodes per event blocks for seconds, an open that waits
# on the data of every node run and a validation of the draft takes far longer.
MAX_OPEN_MS = 8000
MAX_LONGEST_TASK_MS = 1000
MAX_FRAME_GAP_MS = 1500
MAX_CLICK_TO_INSPECTOR_MS = 3000
MAX_LAST_EVENT_TO_CANVAS_MS = 3000

# Observes the main thread from the first script on: long tasks (> 50 ms) and animation frames.
PROBE = """
window.__perf = { longtasks: [], frames: [] };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.__perf.longtasks.push([entry.startTime, entry.duration]);
}).observe({ type: "longtask", buffered: true });
const frame = (now) => { window.__perf.frames.push(now); requestAnimationFrame(frame); };
requestAnimationFrame(frame);
"""

# The first moment (ms since navigation) `count` nodes are drawn on the canvas showing `state`
# (xyflow keeps a node hidden until it has measured it).
ALL_SHOW = """([count, state]) => {
  let shown = 0;
  for (const badge of document.querySelectorAll(`.react-flow__node [data-run-state="${state}"]`)) {
    if (badge.closest(".react-flow__node").style.visibility !== "hidden") shown += 1;
  }
  if (shown < count) return false;
  window.__allShown = window.__allShown || {};
  window.__allShown[state] = window.__allShown[state] || performance.now();
  return window.__allShown[state];
}"""


def large_execution_document():
    """A manual trigger and 499 Set nodes: 25 chains of about 20, side by side."""
    return chains_of_twenty(NODES, lambda index: {"id": f"n{index}", "type": "data.set",
                                                  "params": {"output": {"index": index}}}, row_height=160, start_y=1900)


class EventLog:
    """Appends events to an execution's log and broadcasts them after commit, as the engine's transitions do."""

    def __init__(self, execution):
        self.execution = execution
        self.seq = Execution.objects.get(pk=execution.pk).last_seq
        self.moment = timezone.now()

    def event(self, type_, node_id="", **data):
        self.seq += 1
        self.moment += timedelta(milliseconds=1)
        return ExecutionEvent(execution_id=self.execution.pk, seq=self.seq, type=type_, node_id=node_id, ts=self.moment, data=data)

    def publish(self, events, runs=(), run_fields=(), **execution_fields):
        ExecutionEvent.objects.bulk_create(events)
        if runs:
            NodeRun.objects.bulk_update(runs, run_fields)
        Execution.objects.filter(pk=self.execution.pk).update(last_seq=self.seq, **execution_fields)
        live.broadcast(self.execution.pk, self.execution.workflow_id, events)

    def run_nodes(self, runs):
        """Each node queued, running, logging, completed with an output: five events per node."""
        events = []
        for run in runs:
            run.attempt = 1
            events.append(self.event("NODE_STATE_CHANGED", run.node_id, status="queued", previous="pending", attempt=1))
            run.queued_at = self.moment
            events.append(self.event("NODE_STATE_CHANGED", run.node_id, status="running", previous="queued", attempt=1))
            run.started_at = self.moment
            line = {"ts": self.moment.isoformat(), "level": "info", "message": f"{run.node_id} says hello"}
            events.append(self.event("LOG", run.node_id, lines=[line], count=1))
            events.append(self.event("NODE_STATE_CHANGED", run.node_id, status="completed", previous="running", attempt=1, ports=["main"]))
            run.status, run.finished_at, run.output, run.ports, run.logs = "completed", self.moment, {"index": run.node_id}, ["main"], [line]
            events.append(self.event("DATA_AVAILABLE", run.node_id, ports=["main"], has_output=True))
        self.publish(events, runs, ["attempt", "status", "queued_at", "started_at", "finished_at", "output", "ports", "logs"])


def start_large_execution(owner):
    workflow, errors = services.create_workflow(owner, None, large_execution_document())
    assert errors == [], errors
    # The rows a run starts with (500 pending node runs, the trigger queued); nothing runs them.
    execution = starting.run_workflow(workflow, dispatcher=InlineDispatcher())
    return workflow, execution


def frame_gaps(frames, start, end):
    inside = [t for t in frames if start <= t <= end]
    return [b - a for a, b in zip(inside, inside[1:])]


def test_a_500_node_execution_view_opens_fast_and_keeps_up_while_events_stream(page, asgi_live_server, alice):
    workflow, execution = start_large_execution(alice)
    runs = list(NodeRun.objects.filter(execution=execution).order_by("id"))
    assert len(runs) == NODES
    page.add_init_script(PROBE)
    sign_in(page, asgi_live_server)

    # Opening: from navigation to every node drawn with its state.
    page.goto(f"{asgi_live_server.url}/workflows/{workflow.pk}/executions/{execution.pk}")
    open_ms = page.wait_for_function(ALL_SHOW, arg=[NODES - 1, "pending"], timeout=60_000, polling="raf").json_value()
    expect(page.get_by_role("status", name="Execution")).to_have_attribute("data-transport", "websocket")

    # Streaming: the trigger and 499 nodes complete in batches, 2,500 events in all, while a person
    # clicks a node and its run opens in the inspector.
    log = EventLog(execution)
    log.publish([log.event("EXECUTION_STARTED", status="running")], status="running", started_at=log.moment)
    stream_start = page.evaluate("performance.now()")
    click_ms = None
    for index in range(0, NODES, BATCH_NODES):
        log.run_nodes(runs[index:index + BATCH_NODES])
        if index == NODES // 2:
            started = time.perf_counter()
            canvas_node(page, "n100").click()
            expect(page.get_by_role("complementary", name="Run details").get_by_role("heading", name="n100")).to_be_visible()
            click_ms = (time.perf_counter() - started) * 1000
        time.sleep(BATCH_INTERVAL_S)
    last_event_at = page.evaluate("performance.now()")
    log.publish([log.event("EXECUTION_COMPLETED", status="succeeded", result=None, error=None)],
                status="succeeded", finished_at=log.moment)
    all_completed = page.wait_for_function(ALL_SHOW, arg=[NODES, "completed"], timeout=60_000, polling="raf").json_value()
    expect(page.get_by_test_id("execution-status")).to_have_text("succeeded", timeout=30_000)
    stream_end = page.evaluate("performance.now()")
    # The open inspector got the streamed node's log line and output too.
    inspector = page.get_by_role("complementary", name="Run details")
    expect(inspector.get_by_role("tab", name="Logs (1)")).to_be_visible()
    expect(inspector.get_by_role("tabpanel")).to_contain_text("index")
    screenshot(page, "execution-500-nodes")

    perf = page.evaluate("window.__perf")
    during = [duration for start, duration in perf["longtasks"] if stream_start <= start <= stream_end]
    gaps = sorted(frame_gaps(perf["frames"], stream_start, stream_end))
    events = Execution.objects.get(pk=execution.pk).last_seq

    # Reopening the finished execution: every node completed, from the stored data.
    page.goto(f"{asgi_live_server.url}/workflows/{workflow.pk}/executions/{execution.pk}")
    reopen_ms = page.wait_for_function(ALL_SHOW, arg=[NODES, "completed"], timeout=60_000, polling="raf").json_value()

    figures = {
        "nodes": NODES,
        "events_streamed": events,
        "open_running_ms": round(open_ms),
        "open_finished_ms": round(reopen_ms),
        "stream_s": round((last_event_at - stream_start) / 1000, 2),
        "last_event_to_all_completed_ms": round(all_completed - last_event_at),
        "longest_task_while_streaming_ms": round(max(during, default=0)),
        "long_tasks_while_streaming": len(during),
        "long_task_time_while_streaming_ms": round(sum(during)),
        "frames_while_streaming": len(gaps) + 1,
        "frame_gap_p50_ms": round(gaps[len(gaps) // 2], 1) if gaps else None,
        "frame_gap_p95_ms": round(gaps[int(len(gaps) * 0.95)], 1) if gaps else None,
        "frame_gap_max_ms": round(gaps[-1], 1) if gaps else None,
        "click_to_inspector_ms": round(click_ms),
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "perf-500-node-execution.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\n500-node execution view: {figures}")
    # The execution's own opening event, the trigger's queued event, started, 5 per node, completed.
    assert events == 3 + NODES * 5 + 1, figures
    assert open_ms < MAX_OPEN_MS and reopen_ms < MAX_OPEN_MS, figures
    assert gaps, figures
    assert max(during, default=0) < MAX_LONGEST_TASK_MS, figures
    assert gaps[-1] < MAX_FRAME_GAP_MS, figures
    assert click_ms < MAX_CLICK_TO_INSPECTOR_MS, figures
    assert all_completed - last_event_at < MAX_LAST_EVENT_TO_CANVAS_MS, figures
