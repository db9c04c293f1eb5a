"""Loop Over Items / Split In Batches → flow.foreach, which does not exist yet: reported untranslated."""

from importers.n8n.nodes import NotTranslated

N8N_TYPES = ("n8n-nodes-base.splitInBatches",)
VERSIONS = (1, 3)


def translate(node, ctx):
    raise NotTranslated("Loop Over Items maps to flow.foreach over the loop body, which this NodeFlow does not "
                        "have yet (COMPOSITION.md, wave 2); the loop's connections back to it would be a cycle")
