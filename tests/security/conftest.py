"""Fixtures of the security tests: the HTTP node's allow-list, a guard against stray connections."""

import pytest
import urllib3.util.connection


@pytest.fixture
def allow_networks(settings):
    """allow_networks("127.0.0.1/32", "localhost") sets NODEFLOW_HTTP_ALLOW_NETWORKS for one test
    (the suite's settings allow the loopback addresses; these tests narrow that)."""

    def set_allowed(*entries):
        settings.NODEFLOW = {**settings.NODEFLOW, "HTTP_ALLOW_NETWORKS": list(entries)}

    return set_allowed


@pytest.fixture
def connections(monkeypatch):
    """Every TCP connection urllib3 opens, as (address, port). A connection to anything but
    loopback is refused here, so a broken guard can never send traffic off this machine."""
    opened = []
    real = urllib3.util.connection.create_connection

    def create_connection(address, *args, **kwargs):
        opened.append(address)
        if not (address[0].startswith("127.") or address[0] in ("::1", "localhost")):
            raise OSError(f"test refused a connection to {address[0]} (not loopback)")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)
    return opened


@pytest.fixture
def fake_dns(monkeypatch):
    """fake_dns({"name": ["1.2.3.4", …] or a function of the call count}) answers for those names
    in the network guard; other names go to the system resolver. Returns the lookups made."""
    import socket

    from nodes.http_request import guard

    lookups = []
    real = guard._getaddrinfo

    def install(table):
        def getaddrinfo(host, port, *args, **kwargs):
            lookups.append(host)
            if host not in table:
                return real(host, port, *args, **kwargs)
            answer = table[host]
            addresses = answer(lookups.count(host)) if callable(answer) else answer
            return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                     (a, port, 0, 0) if ":" in a else (a, port)) for a in addresses]

        monkeypatch.setattr(guard, "_getaddrinfo", getaddrinfo)
        return lookups

    return install
