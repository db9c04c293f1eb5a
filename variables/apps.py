from django.apps import AppConfig


class VariablesConfig(AppConfig):
    """Global variables: each owner's JSON values with versions, their history, and what watches them."""

    name = "variables"
