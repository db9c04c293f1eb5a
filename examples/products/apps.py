from django.apps import AppConfig


class ProductsConfig(AppConfig):
    """The seed pipeline's example app; NodeFlow finds its node type in `examples.products.nodes`."""

    name = "examples.products"
    label = "products"
    verbose_name = "Product pipeline example node types"
