"""The stages of stageflow's reference pipeline (shared/acceptance/stageflow_demo_full_flow.json),
registered as the node types `stage.InitStage`, `stage.WorkerAStage` and `stage.WorkerBStage`.

Load them with NODEFLOW_NODE_MODULES=examples.stageflow_stages (in the web process and the
workers) and the imported pipeline runs. They are stubs: the score is the text's length, and
texts longer than 10 characters take the parallel path."""

from importers.stageflow import stage_node


@stage_node("InitStage")
def init_stage(arguments, config):
    """Scores the text (its length) and decides whether the workers run."""
    score = len(arguments.get("text") or "")
    return {"score": score, "need_parallel": score > 10}


@stage_node("WorkerAStage")
def worker_a_stage(arguments, config):
    """Worker A: twice the score."""
    return {"a_result": (arguments.get("score") or 0) * 2}


@stage_node("WorkerBStage")
def worker_b_stage(arguments, config):
    """Worker B: the score plus 100."""
    return {"b_result": (arguments.get("score") or 0) + 100}
