from django.apps import AppConfig


class CredentialsConfig(AppConfig):
    """Users' stored credentials: encrypted at rest, write-only over the API, resolved only in workers."""

    name = "credentials"
