"""Execute Workflow → flow.subworkflow, when the called workflow was imported too.

The node calls a workflow stored in n8n (source `database`, `workflowId`: a string in v1, a
resource locator `{__rl, value, mode}` from v1.1) or one it carries (`parameter`), loads from a
file or a URL. Only the first has a NodeFlow equivalent: the workflow imported from that n8n
workflow, found by the n8n id each n8n import records in the workflow's description. The
called workflow's draft is called (n8n calls the saved workflow, active or not)."""

from importers.n8n import expressions
from importers.n8n.nodes import NotTranslated, Translation, option
from importers.n8n.nodes.set import _jinja

N8N_TYPES = ("n8n-nodes-base.executeWorkflow",)
VERSIONS = (1, 1.2)

_SOURCES = {"parameter": "the workflow JSON it carries in its parameters", "localFile": "a local file",
            "url": "a URL"}
_IMPORT_IT = ("import that workflow into NodeFlow (its n8n export) first, then import this one again: the call then "
              "becomes a flow.subworkflow calling it")


def _called_id(params):
    value = params.get("workflowId", "")
    if isinstance(value, dict):  # a resource locator (v1.1+)
        value = value.get("value", "")
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
        raise NotTranslated("it names no workflow to call (workflowId is empty)")
    if expressions.is_expression(value):
        raise NotTranslated(f"the workflow it calls is an expression ({value}); flow.subworkflow calls one "
                            "workflow chosen when it is built: set the workflow on the flow.subworkflow by hand")
    return str(value).strip()


def _input(params, ctx, notes):
    mapped = option(params, "workflowInputs", "value", default=None) if ctx.type_version >= 1.2 else None
    if not isinstance(mapped, dict) or not mapped:
        if ctx.scope.current is None:
            notes.append("input: the node has no single input node, so the called workflow gets {}")
            return {}
        return "{{ " + ctx.scope.current + " }}"
    if option(params, "workflowInputs", "schema", default=None):
        notes.append("workflowInputs: the values are passed as they are, without the type conversion of the "
                     "called workflow's declared inputs")
    if ctx.scope.current is None:
        notes.append("input: only the mapped workflow inputs (the node has no single input node)")
        return ctx.value(mapped, "workflowInputs.value")
    try:
        fields = ", ".join(f'"{name}": {_jinja(value, ctx.scope)}' for name, value in mapped.items())
    except expressions.Untranslatable:
        notes.append("input: the mapped workflow inputs only (one of them has no equivalent over the item)")
        return ctx.value(mapped, "workflowInputs.value")
    return "{{ dict(" + ctx.scope.current + ", **{" + fields + "}) }}"


def translate(node, ctx):
    params = node.get("parameters") or {}
    source = params.get("source", "database")
    if source != "database":
        where = _SOURCES.get(source, f"source {source!r}")
        raise NotTranslated(f"it runs a workflow from {where}, not a stored one; NodeFlow's flow.subworkflow calls "
                            f"a stored workflow: save that workflow in n8n, call it by its id, export both, and "
                            f"{_IMPORT_IT}")
    n8n_id = _called_id(params)
    found = ctx.importer.find_workflow(n8n_id) if ctx.importer.find_workflow else None
    if found is None:
        raise NotTranslated(f"it calls n8n workflow {n8n_id!r}, which has not been imported into NodeFlow: "
                            f"{_IMPORT_IT}")
    workflow_id, workflow_name = found
    notes = [f"calls {workflow_name!r} ({workflow_id}), imported from n8n workflow {n8n_id!r}, at its draft "
             "(n8n calls the saved workflow, active or not); set version to published once that one is"]
    wait = option(params, "options", "waitForSubWorkflow", default=True)
    if wait is False:
        notes.append("waitForSubWorkflow off: the output is {execution_id} of the call, where n8n hands on the "
                     "node's input items")
    if params.get("mode") == "each":
        notes.append("mode each (a call per item): with one item per run, one call")
    call = {"workflow": workflow_id, "version": "draft", "input": _input(params, ctx, notes), "wait": wait is not False}
    return Translation("flow.subworkflow", call, notes)
