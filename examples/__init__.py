"""Example Django apps that extend NodeFlow (see each app's README.md)."""
