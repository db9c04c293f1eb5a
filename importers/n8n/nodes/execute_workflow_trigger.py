"""Execute Workflow Trigger (where a called workflow starts) → trigger.manual.

A flow.subworkflow starts the workflow it calls at its trigger, whose output is the input the
call passes: what n8n's trigger outputs (the caller's items)."""

from importers.n8n.nodes import Translation, option

N8N_TYPES = ("n8n-nodes-base.executeWorkflowTrigger",)
VERSIONS = (1, 1.1)


def translate(node, ctx):
    params = node.get("parameters") or {}
    notes = ["its output is the input a calling flow.subworkflow passes (n8n's: the caller's items)"]
    declared = option(params, "workflowInputs", "values", default=None)
    source = params.get("inputSource", "workflowInputs" if ctx.type_version >= 1.1 else "passthrough")
    if source != "passthrough" and (declared or params.get("jsonExample")):
        notes.append(f"inputSource {source}: the declared inputs are not checked or converted; the whole input "
                     "is passed on (add an input_schema to check it)")
    return Translation("trigger.manual", notes=notes)
