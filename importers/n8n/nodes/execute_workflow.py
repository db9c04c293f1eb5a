"""Execute Workflow → flow.subworkflow, which does not exist yet: reported untranslated."""

from importers.n8n.nodes import NotTranslated

N8N_TYPES = ("n8n-nodes-base.executeWorkflow",)
VERSIONS = (1, 1.2)


def translate(node, ctx):
    raise NotTranslated("Execute Workflow maps to flow.subworkflow, which this NodeFlow does not have yet "
                        "(COMPOSITION.md, wave 2); import the called workflow and rebuild the call")
