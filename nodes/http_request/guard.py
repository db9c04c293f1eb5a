"""Which URLs the HTTP node may request, and the connections that enforce it.

`check_url` is called for the first URL and again for every redirect hop, before any
connection is made. It refuses what is never a valid target (another scheme, no
host), then `check_network` resolves the host and refuses loopback, private,
link-local, multicast, reserved and cloud-metadata addresses (the SSRF guard) unless
settings.NODEFLOW["HTTP_ALLOW_NETWORKS"] (NODEFLOW_HTTP_ALLOW_NETWORKS: CIDRs or host
names) lets them through.

DNS rebinding: a name that resolves to a public address for the check and to
127.0.0.1 a moment later must not reach 127.0.0.1. So the addresses that passed the
check are pinned for this thread, and the connections of `PinnedAdapter` connect to
those addresses only; they never resolve the name again. The Host header and the TLS
server name (SNI, certificate check) stay the URL's host name. A connection to a host
with no pinned address fails closed."""

import ipaddress
import socket
import threading
from urllib.parse import urlsplit

from cachetools import LRUCache
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError

from engine.errors import PERMANENT, TRANSIENT, NodeError

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
ALLOW_SETTING = "NODEFLOW_HTTP_ALLOW_NETWORKS"

# IPv6 ranges that carry an IPv4 address a gateway forwards to: NAT64 (RFC 6052) and
# IPv4-compatible (deprecated, ::a.b.c.d). 6to4 and IPv4-mapped have their own properties.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# Named because they are the prize of most SSRF attacks (cloud instance credentials).
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254"),
             ipaddress.ip_address("100.100.100.200")}


def check_url(url):
    """Return None when `url` may be requested; raise NodeError (permanent) when not.

    On success the addresses its host resolved to are pinned for this thread: the
    next connection to that host and port goes to one of them."""
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
    port = port or DEFAULT_PORTS[scheme]
    addresses = check_network(parts.hostname, port)
    if addresses is None:
        # A replacement check_network (a test's) that only says yes or no: it allowed
        # whatever the name resolves to now, so that is what gets pinned.
        addresses = resolve(parts.hostname, port)
    pin(parts.hostname, port, addresses)


def check_network(host, port):
    """The private-network (SSRF) guard: the addresses `host` resolves to, when every one
    of them may be reached; NodeError(…, PERMANENT, code="http.blocked") when any may not.

    One refused address refuses the host: a name with a public and a private address
    could otherwise be connected to the private one."""
    allow = allow_list()
    addresses = resolve(host, port)
    if allow.allows_host(host):
        return addresses
    for address in addresses:
        ip = ipaddress.ip_address(address)
        reason = refusal_reason(ip)
        if reason and not allow.allows_ip(ip):
            shown = host if _normal_host(host) == _normal_host(address) else f"{host} resolves to {address}, which"
            raise NodeError(
                f"{shown} is a {reason} address: the HTTP node does not connect to the server's own or private "
                f"networks (SSRF guard); an administrator can allow it with {ALLOW_SETTING}",
                PERMANENT,
                code="http.blocked",
                details={"host": host, "address": address, "reason": reason},
            )
    return addresses


def refusal_reason(ip):
    """Why `ip` (an ipaddress address) is not a public unicast address, or None when it is."""
    if ip.version == 6:
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            reason = refusal_reason(embedded)
            return f"{reason} (IPv4 inside IPv6)" if reason else None
    if ip in _METADATA:
        return "cloud metadata"
    for reason, flag in (("unspecified", ip.is_unspecified), ("loopback", ip.is_loopback),
                         ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
                         ("private", ip.is_private), ("reserved", ip.is_reserved)):
        if flag:
            return reason
    if ip.version == 6 and ip.is_site_local:
        return "site-local"
    if not ip.is_global:
        return "non-public"  # shared address space (100.64.0.0/10), benchmarking, …
    return None


def _embedded_ipv4(ip):
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


_getaddrinfo = socket.getaddrinfo  # the system resolver (tests put a fake DNS here)


def resolve(host, port):
    """The addresses (text) `host` resolves to, in the resolver's order; NodeError when it does not resolve."""
    try:
        infos = _getaddrinfo(_normal_host(host), port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise NodeError(
            f"the host name {host!r} could not be resolved (DNS: {exc}); check its spelling",
            TRANSIENT,
            code="http.dns_error",
        ) from None
    addresses = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = sockaddr[0].split("%", 1)[0]  # an IPv6 zone (fe80::1%eth0) is not part of the address
        if address not in addresses:
            addresses.append(address)
    return addresses


# ---------------------------------------------------------------------------
# The allow-list


class AllowList:
    """NODEFLOW_HTTP_ALLOW_NETWORKS parsed: networks (CIDRs, bare addresses) and host names.

    A host name entry allows that name whatever it resolves to; `.example.com` or
    `*.example.com` also allows every name under it."""

    def __init__(self, entries):
        self.networks, self.hosts, self.suffixes = [], set(), []
        for entry in entries:
            entry = entry.strip()
            if not entry:
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            name = entry.lower().rstrip(".")
            if name.startswith("*."):
                name = name[1:]
            if "/" in name or not name.strip("."):
                from django.core.exceptions import ImproperlyConfigured

                raise ImproperlyConfigured(f"{ALLOW_SETTING}: {entry!r} is neither a network (CIDR) nor a host name")
            if name.startswith("."):
                self.suffixes.append(name)
            else:
                self.hosts.add(name)

    def allows_host(self, host):
        name = _normal_host(host)
        return name in self.hosts or any(name.endswith(suffix) for suffix in self.suffixes)

    def allows_ip(self, ip):
        candidates = [ip]
        if ip.version == 6 and _embedded_ipv4(ip) is not None:
            candidates.append(_embedded_ipv4(ip))
        return any(candidate in network for candidate in candidates for network in self.networks
                   if candidate.version == network.version)


_allow_cache = {}


def allow_list():
    """The allow-list of the current settings (read at call time, so tests can override it)."""
    try:
        from django.conf import settings

        entries = tuple(settings.NODEFLOW.get("HTTP_ALLOW_NETWORKS") or ()) if settings.configured else ()
    except ImportError:
        entries = ()
    found = _allow_cache.get(entries)
    if found is None:
        found = AllowList(entries)
        _allow_cache.clear()
        _allow_cache[entries] = found
    return found


# ---------------------------------------------------------------------------
# Pinned connections


_pins = threading.local()
_MAX_PINS = 64


def _normal_host(host):
    return host.strip("[]").rstrip(".").lower()


def pin(host, port, addresses):
    """Connections of this thread to `host`:`port` go to `addresses` (checked) from now on."""
    pins = getattr(_pins, "table", None)
    if pins is None:
        # The least recently used pin goes first when full: this request's own pins are the newest.
        pins = _pins.table = LRUCache(maxsize=_MAX_PINS)
    pins[(_normal_host(host), int(port))] = tuple(addresses)


def pinned(host, port):
    """The addresses pinned for `host`:`port` in this thread (empty when none were checked)."""
    return getattr(_pins, "table", {}).get((_normal_host(host), int(port)), ())


class _PinnedConnectionMixin:
    """Connects to the addresses the guard checked for the host instead of resolving it again."""

    def _new_conn(self):
        addresses = pinned(self._dns_host, self.port)
        if not addresses:
            raise NewConnectionError(self, f"no address of {self.host} was checked by the network guard; refusing to connect")
        name, last_error = self._dns_host, None
        for address in addresses:
            # urllib3 connects to _dns_host; `host` (Host header, TLS server name) is unchanged.
            self._dns_host = address
            try:
                return super()._new_conn()
            except NewConnectionError as exc:
                last_error = exc
            finally:
                self._dns_host = name
        raise last_error


class PinnedHTTPConnection(_PinnedConnectionMixin, HTTPConnection):
    pass


class PinnedHTTPSConnection(_PinnedConnectionMixin, HTTPSConnection):
    pass


class PinnedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = PinnedHTTPConnection


class PinnedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = PinnedHTTPSConnection


class PinnedAdapter(HTTPAdapter):
    """requests' adapter whose connections go only to addresses `check_url` pinned."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": PinnedHTTPConnectionPool,
                                                   "https": PinnedHTTPSConnectionPool}
