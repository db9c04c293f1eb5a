"""Test settings with the example app `examples.acme` installed (for processes started by tests)."""

from tests.settings import *  # noqa: F401,F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "examples.acme"]
