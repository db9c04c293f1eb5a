"""Which URLs the HTTP node may request.

`check_url` is called for the first URL and again for every redirect hop, before any
connection is made. It refuses what is never a valid target (another scheme, no
host) and then asks `check_network`, the hook where the private-network (SSRF) guard
of NODEFLOW_HTTP_ALLOW_NETWORKS plugs in."""

from urllib.parse import urlsplit

from engine.errors import PERMANENT, NodeError

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}


def check_url(url):
    """Return None when `url` may be requested; raise NodeError (permanent) when not."""
    if not isinstance(url, str) or not url.strip():
        raise NodeError("url is empty: give an absolute http:// or https:// URL", PERMANENT, code="http.invalid_url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise NodeError(f"url {url!r} is not a valid URL: {exc}", PERMANENT, code="http.invalid_url") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        got = f"{scheme}://" if scheme else "no scheme"
        raise NodeError(
            f"url {url!r} has {got}; only http:// and https:// URLs can be requested",
            PERMANENT,
            code="http.invalid_url",
        )
    if not parts.hostname:
        raise NodeError(f"url {url!r} has no host name", PERMANENT, code="http.invalid_url")
    check_network(parts.hostname, port or DEFAULT_PORTS[scheme])


def check_network(host, port):
    """The private-network (SSRF) guard: raise NodeError(…, PERMANENT, code="http.blocked")
    when `host`:`port` must not be reached. For now it allows everything.

    The security issue fills this in: resolve `host`, refuse loopback, private,
    link-local and other non-public addresses unless they fall in
    settings.NODEFLOW["HTTP_ALLOW_NETWORKS"] (NODEFLOW_HTTP_ALLOW_NETWORKS; CIDRs or
    host names), and make the connection use the address that was checked, so DNS
    rebinding between the check and the connect cannot get around it. Callers already
    run every redirect hop through `check_url`, so nothing else needs to change."""
    return None
