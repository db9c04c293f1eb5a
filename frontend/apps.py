from django.apps import AppConfig


class FrontendConfig(AppConfig):
    """The web editor: the single-page app at `/`, the login page and its built assets."""

    name = "frontend"
    verbose_name = "Web editor"
