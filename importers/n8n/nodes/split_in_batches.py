"""Loop Over Items (Split In Batches v3) → flow.foreach over the loop body.

n8n's v3 node has two outputs: 0 "done" (every item that came back to it, once the items are
used up) and 1 "loop" (the next batch). The loop body is what output 1 reaches before coming
back to the node; the importer (`N8nImporter._loops`) finds it, and moves the body's nodes
into the foreach's `params.graph` after this module made the node (`graph` is filled there).
Inside the body `$json` of the loop node is the current item, `input.item`.

v1 and v2 have one output, handing out the next batch each time the workflow comes back to
the node; the loop ends where some node (an IF) reads the node's context (`noItemsLeft`):
the body cannot be told from what follows the loop, so they stay untranslated."""

from importers.n8n.nodes import NotTranslated, Translation

N8N_TYPES = ("n8n-nodes-base.splitInBatches",)
VERSIONS = (1, 3)
LOOP_VERSION = 3  # from this type version on, the node has the done and loop outputs

_OLD_VERSIONS = (
    "Split In Batches v1/v2 has one output that hands out the next batch each time the workflow comes back to "
    "it, and the loop ends where another node reads its context (noItemsLeft): NodeFlow cannot tell the loop "
    "body from what follows it. Rebuild it as a flow.foreach over the body (or replace it in n8n by Loop Over "
    "Items v3, whose done and loop outputs say which is which, and import again)")


def translate(node, ctx):
    if ctx.type_version < LOOP_VERSION:
        raise NotTranslated(_OLD_VERSIONS)
    loop = ctx.importer.loops.get(node["name"])
    if loop is None or isinstance(loop, str):
        raise NotTranslated(loop or "its loop body could not be found")
    params = node.get("parameters") or {}
    feeder = loop["feeder"]
    path = ctx.importer.json_paths[feeder]
    items = "{{ " + f"{path} if {path} is sequence and {path} is not string and {path} is not mapping " \
                    f"else [{path}]" + " }}"
    notes = [
        f"items: what {feeder!r} outputs, the items n8n hands to the loop (a list is the items, any other value "
        "one item); inside the body $json of the loop node is the current item (input.item)",
        "runs one iteration at a time, in item order, as n8n's loop does (concurrency 1; raise it to go faster)",
        "its output (port main, n8n's done output) is the list of each iteration's result: what the body hands "
        f"back to the loop ({loop['back']!r}'s output)",
    ]
    batch_size = params.get("batchSize", 1)
    if batch_size != 1:
        notes.append(f"batchSize {batch_size}: n8n hands the body that many items at a time and its nodes work on "
                     "each of them; here each iteration gets one item (batch_size 1), which gives the same results "
                     "for item-wise nodes (a node that needs the whole batch differs)")
    if (params.get("options") or {}).get("reset"):
        notes.append("reset: each run of a flow.foreach starts from the items it gets, as reset does")
    return Translation("flow.foreach", {"items": items, "graph": {"nodes": [], "edges": []}, "concurrency": 1,
                                        "batch_size": 1, "on_item_error": "fail"}, notes, outputs=[["main"], []])
