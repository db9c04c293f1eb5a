from django.apps import AppConfig


class AcmeConfig(AppConfig):
    """The example app; NodeFlow finds its node types in `examples.acme.nodes`."""

    name = "examples.acme"
    label = "acme"
    verbose_name = "Acme example node types"
