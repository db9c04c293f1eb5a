"""Wait (time interval, until a time, or resumed by a webhook call) → flow.wait."""

from importers.n8n.nodes import NotTranslated, Translation

N8N_TYPES = ("n8n-nodes-base.wait",)
VERSIONS = (1, 1.1)
_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


def passes_items_through(node):
    """A timed wait hands its items on; one resumed by a call outputs what the call sent."""
    return (node.get("parameters") or {}).get("resume", "timeInterval") != "webhook"


def translate(node, ctx):
    params = node.get("parameters") or {}
    resume = params.get("resume", "timeInterval")
    if resume == "timeInterval":
        amount = params.get("amount", 1)
        unit = params.get("unit", "hours")
        if isinstance(amount, str):
            raise NotTranslated("a wait time given by an expression (flow.wait takes a number of seconds)")
        return Translation("flow.wait", {"seconds": float(amount) * _SECONDS.get(unit, 1)})
    if resume == "specificTime":
        return Translation("flow.wait", {"until": ctx.value(params.get("dateTime", ""), "dateTime")})
    if resume == "webhook":
        notes = ["n8n's resume URL becomes POST /api/v1/executions/{id}/input/; the data sent there is its output"]
        wait_input = {}
        limit = params.get("limitWaitTime")
        if limit and params.get("limitType", "afterTimeInterval") == "afterTimeInterval":
            unit = _SECONDS.get(params.get("resumeUnit", "hours"), 1)
            wait_input["timeout_s"] = float(params.get("resumeAmount", 1)) * unit
            notes.append("after the time limit n8n goes on; here the `timeout` port is taken")
        return Translation("flow.wait", {"input": wait_input}, notes)
    raise NotTranslated(f"resuming on {resume!r}")
