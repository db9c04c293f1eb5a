"""The orchestration policy: what happens after a node run ends, and when an execution settles.

Each decision is a named rule with the states it moves from and the state it moves to,
the way Prefect names its orchestration rules: the runtime (executions/) asks the
policy, then writes what it decided. Nothing here touches a database, a clock or a
broker, so every rule is tested on its own (tests/engine/test_policy.py).

Edges — which are taken, how join counters move — are the scheduler's rules, in
engine/scheduling.py; this module uses them and does not restate them."""

from dataclasses import dataclass

from engine.graph import ERROR_PORT, MAIN
from engine.retry import backoff_delay, should_retry
from engine.scheduling import join_counters
from engine.states import EXECUTION_FINAL, ExecutionStatus, NodeStatus

E, N = ExecutionStatus, NodeStatus


@dataclass(frozen=True)
class Rule:
    """One orchestration rule: its name, the states it applies in, and the state it leads to."""

    name: str
    from_states: frozenset
    to_state: str
    description: str

    def applies_to(self, state):
        return state in self.from_states


def _rule(name, from_states, to_state, description):
    return Rule(name, frozenset(from_states), to_state, description)


# -- after a node run failed

RETRY = _rule("retry", {N.RUNNING}, N.RETRYING,
              "the node's retry policy allows another attempt for this error class: run it again after a backoff")
CONTINUE = _rule("continue", {N.RUNNING}, N.COMPLETED,
                 "on_error: continue — the node completes with {'error': …} as its output, down its main port")
ROUTE = _rule("route", {N.RUNNING}, N.FAILED,
              "on_error: route — the node fails and its `error` port is taken")
FAIL = _rule("fail", {N.RUNNING}, N.FAILED,
             "on_error: fail (the default) — the node fails, the execution fails and its open nodes are cancelled")

# -- an execution after a transition

SUCCEED = _rule("succeed", {E.RUNNING, E.WAITING}, E.SUCCEEDED,
                "no node run is open any more: the execution succeeded")
WAIT = _rule("wait", {E.RUNNING}, E.WAITING,
             "every open node run is waiting (a timer or input): the execution waits, holding no worker")
WAKE = _rule("wake", {E.WAITING}, E.RUNNING,
             "a node run of a waiting execution is queued, running or retrying again: it runs")

# -- a node run delivered to a worker

CLAIM = _rule("claim", {N.QUEUED, N.RETRYING}, N.RUNNING,
              "a queued node run (or one whose retry is due) is delivered: it runs in that worker")
START = _rule("start", {E.QUEUED, E.WAITING}, E.RUNNING,
              "the first node run of an execution (or one after a wait) is claimed: the execution runs")

# -- a waiting node run

TIMER_FIRED = _rule("timer_fired", {N.WAITING}, N.COMPLETED,
                    "a wait's time came: the node completes down `main`, or `timeout` when it waited for input")
INPUT_ARRIVED = _rule("input_arrived", {N.WAITING}, N.COMPLETED,
                      "input was posted for a node waiting for it: the node completes with it down `main`")

# -- retrying a failed execution

REQUEUE = _rule("requeue", {N.FAILED, N.CANCELLED}, N.QUEUED,
                "retrying the execution: a node that failed, or was cancelled with all its inputs resolved, runs again")
RESET = _rule("reset", {N.CANCELLED}, N.PENDING,
              "retrying the execution: a cancelled node still missing inputs waits for them again")

# Why an attempt ended without a result of its own: its worker was lost, or its result could not
# be written. Such an attempt is run again without counting as a try of the node's retry policy.
WORKER_LOST = "worker_lost"
RESULT_NOT_RECORDED = "result_not_recorded"
LOST = frozenset({WORKER_LOST, RESULT_NOT_RECORDED})


def try_number(attempts):
    """The try the next attempt is, as the node sees it, from the records of the attempts before:
    a try that was lost (LOST) and is run again is the same try, so the same call."""
    return 1 + sum(1 for record in attempts or () if ((record or {}).get("error") or {}).get("code") not in LOST)


RULES = (RETRY, CONTINUE, ROUTE, FAIL, SUCCEED, WAIT, WAKE, CLAIM, START, TIMER_FIRED, INPUT_ARRIVED, REQUEUE, RESET)


@dataclass(frozen=True)
class FailureDecision:
    """What follows a failed attempt: the rule, and for `retry` the delay in seconds;
    `ports` are the ports the node emits (main for continue, error for route, none otherwise)."""

    rule: Rule
    retry_delay_s: float | None = None

    @property
    def ports(self):
        if self.rule is CONTINUE:
            return (MAIN,)
        if self.rule is ROUTE:
            return (ERROR_PORT,)
        return ()

    @property
    def fails_execution(self):
        return self.rule is FAIL


def after_failure(node, attempt, error_class, rng=None):
    """The decision after attempt number `attempt` (1-based) of `node` failed with `error_class`.

    The node's retry policy comes first; once it is exhausted (or does not cover the
    error class) the node's `on_error` decides."""
    policy = node.get("retry")
    if should_retry(policy, attempt, error_class):
        delay = backoff_delay(policy, attempt) if rng is None else backoff_delay(policy, attempt, rng)
        return FailureDecision(RETRY, retry_delay_s=delay)
    on_error = node.get("on_error", "fail")
    if on_error == "continue":
        return FailureDecision(CONTINUE)
    if on_error == "route":
        return FailureDecision(ROUTE)
    return FailureDecision(FAIL)


def settle(status, open_statuses, new_work=False):
    """The rule that moves an execution after a transition, or None when it stays as it is.

    `open_statuses` are the statuses of its node runs that are not final, or a function
    returning them (called only when the decision needs them: it costs a query); `new_work`
    says the transition just queued or claimed a node run (the execution goes on)."""
    if status in EXECUTION_FINAL or status == E.PAUSED or new_work:
        return None
    if callable(open_statuses):
        open_statuses = open_statuses()
    if not open_statuses:
        return SUCCEED if SUCCEED.applies_to(status) else None
    busy = bool(set(open_statuses) & {N.QUEUED, N.RUNNING, N.RETRYING})
    if not busy and N.WAITING in open_statuses:
        return WAIT if status != E.WAITING else None
    if busy and status == E.WAITING:
        return WAKE
    return None


def may_claim(run_status, execution_status):
    """Whether a delivered node run may start: it is queued or due for a retry, and its
    execution is neither finished nor paused (a late or duplicate delivery is ignored)."""
    if execution_status in EXECUTION_FINAL or execution_status == E.PAUSED:
        return False
    return CLAIM.applies_to(run_status)


def accepts_result(run_status, run_attempt, attempt):
    """Whether a node's result is recorded: only the attempt that is running now; a result
    for an earlier attempt, or one cancelled or re-queued meanwhile, is a late one."""
    return run_status == N.RUNNING and run_attempt == attempt


def wake_outcome(wait, reason, data=None):
    """(rule, output, ports) of a waiting node that is woken by its timer or by input."""
    if reason == "input":
        return INPUT_ARRIVED, data, (MAIN,)
    if wait.get("input"):
        return TIMER_FIRED, {"timed_out": True, "waited_until": wait.get("until")}, ("timeout",)
    return TIMER_FIRED, {"waited_until": wait.get("until")}, (MAIN,)


@dataclass(frozen=True)
class Requeue:
    """A node of an execution being retried: the rule that applies and its join counters."""

    node_id: str
    rule: Rule
    inputs_remaining: int
    inputs_taken: int


def retry_plan(graph, runs):
    """The nodes a retry of a failed execution runs again, in graph order.

    `runs` maps node id → (status, ports). A node that failed without taking a port runs
    again; a cancelled one runs again when all its inputs are resolved and one was taken,
    and otherwise waits for them (pending). Completed nodes keep their outputs."""
    again = [node_id for node_id in graph.order
             if (runs[node_id][0] == N.FAILED and not runs[node_id][1]) or runs[node_id][0] == N.CANCELLED]
    plan = []
    for node_id in again:
        remaining, taken = join_counters(graph, node_id, runs)
        if runs[node_id][0] == N.FAILED or (remaining == 0 and taken):
            plan.append(Requeue(node_id, REQUEUE, remaining, taken))
        else:
            plan.append(Requeue(node_id, RESET, remaining, taken))
    return plan


@dataclass(frozen=True)
class PartialPlan:
    """A partial run (DEBUGGING.md): which nodes run, which are taken from an earlier execution,
    which that execution must have, and which are skipped because nothing asked for them."""

    run: frozenset
    reused: frozenset
    needed: frozenset
    skipped: frozenset


REUSABLE = frozenset({N.COMPLETED, N.SKIPPED})


def partial_plan(graph, start_at=None, stop_after=()):
    """The plan of a run from `start_at` (reusing every node not at or after it) and/or up to
    `stop_after` (only what those nodes need).

    `needed`: the reused nodes whose outputs, ports or variables the nodes that run read (their
    ancestors); an earlier execution lacking one of them cannot serve the run."""
    wanted = set(graph.order)
    if stop_after:
        wanted = set(stop_after).union(*(graph.ancestors(node_id) for node_id in stop_after))
    fresh = graph.reachable_from([start_at]) if start_at is not None else set(graph.order)
    run = fresh & wanted
    reused = (wanted - fresh) if start_at is not None else set()
    needed = {a for node_id in run for a in graph.ancestors(node_id)} - run
    return PartialPlan(run=frozenset(run), reused=frozenset(reused), needed=frozenset(needed & reused),
                       skipped=frozenset(set(graph.order) - wanted))


def reusable(status, ports):
    """Whether an earlier node run can stand in for the node: it completed or was skipped, or it
    failed and took a port (an error routed, so what follows ran on)."""
    return status in REUSABLE or (status == N.FAILED and bool(ports))


def debug_request(breakpoints=(), step=False):
    """An execution's `debug` state from a run's request (DEBUGGING.md): where it pauses, whether it
    pauses before every node, and what it is paused at now."""
    return {"breakpoints": sorted(set(breakpoints)), "step": bool(step), "paused_at": [], "vars": {}}


def holds_at_breakpoint(debug, node_id):
    """Whether a debug run pauses before `node_id` starts: it has a breakpoint, or the run steps."""
    if not debug:
        return False
    return bool(debug.get("step")) or node_id in (debug.get("breakpoints") or ())


BREAKPOINT = "breakpoint"


def paused_before(debug, node_ids):
    """The debug state with `node_ids` added to what the execution is paused at."""
    paused = list(debug.get("paused_at") or [])
    return {**debug, "paused_at": paused + [node_id for node_id in node_ids if node_id not in paused]}


def released(debug, step):
    """The debug state once the held nodes go on: stepping pauses before each next node, resuming
    only at breakpoints."""
    return {**debug, "step": bool(step), "paused_at": []}


def vars_edited(debug, changes):
    """The debug state with a vars edit for each node it is paused at: each of them starts with
    the variables it was going to see, `changes` written over them."""
    edits = dict(debug.get("vars") or {})
    for node_id in debug.get("paused_at") or ():
        edits[node_id] = {**edits.get(node_id, {}), **changes}
    return {**debug, "vars": edits}


def vars_edit_for(debug, node_id):
    """The variables a vars edit made while paused writes before `node_id` runs, or None."""
    if not debug:
        return None
    return (debug.get("vars") or {}).get(node_id)
