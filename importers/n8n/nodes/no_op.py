"""No Operation → flow.noop."""

from importers.n8n.nodes import Translation

N8N_TYPES = ("n8n-nodes-base.noOp",)
VERSIONS = (1, 1)


def passes_items_through(node):
    return True


def translate(node, ctx):
    return Translation("flow.noop", notes=["n8n passes its input on; flow.noop outputs nothing (read the node "
                                           "before it instead)"])
