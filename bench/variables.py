"""P13: global variables under contention. Executions of manual → data.set → terminal whose Set
increments one global variable (every run's write waits for the key's row lock), against the same
shape writing the run's own vars (P2's workflow) in the same bench run: the ratio is what the lock
and the history row cost when all executions write the same key."""

import time

from bench.support import doc, small_doc, wait_executions


def _owner():
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="nodeflow-bench")
    return user


def _global_incr_doc():
    return doc(
        [{"id": "start", "type": "trigger.manual"},
         {"id": "set", "type": "data.set", "params": {"scope": "global", "op": "incr", "vars": {"bench_hits": 1}}},
         {"id": "done", "type": "flow.terminal", "params": {"result": "{{ input.n }}"}}],
        [{"from": "start", "to": "set"}, {"from": "set", "to": "done"}],
    )


def _run(document, count, owner):
    from executions.starting import start_execution
    from executions.tasks import dispatcher

    started = time.perf_counter()
    ids = [start_execution(document, dispatcher=dispatcher, owner=owner, input_data={"n": i}).pk for i in range(count)]
    wait_executions(ids, 600)
    return time.perf_counter() - started


def p13_global_incr(quick, ctx):
    from variables import services

    count = 200 if quick else 1000
    owner = _owner()
    before = services.snapshot(owner.pk, {"bench_hits"}).get("bench_hits", 0)
    seconds = _run(_global_incr_doc(), count, owner)
    after = services.snapshot(owner.pk, {"bench_hits"})["bench_hits"]
    if after - before != count:
        raise RuntimeError(f"P13: {count} increments added {after - before}")
    baseline = _run(small_doc(), count, owner)
    return {"id": "P13", "scenario": f"{count} executions incrementing one global variable: executions/s "
            "(baseline: the same shape writing run vars)", "unit": "exec/s",
            "nodeflow": count / seconds, "baseline": count / baseline, "target": "≥ 0.5× the run-vars shape",
            "lower_is_better": False}
