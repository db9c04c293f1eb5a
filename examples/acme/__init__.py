"""Acme: an example Django app that adds a node type (`acme.score`) to NodeFlow."""
