"""Manual Trigger → trigger.manual."""

from importers.n8n.nodes import Translation

N8N_TYPES = ("n8n-nodes-base.manualTrigger",)
VERSIONS = (1, 1)


def translate(node, ctx):
    return Translation("trigger.manual", notes=["its output is the run's input (n8n's is one empty item)"])
