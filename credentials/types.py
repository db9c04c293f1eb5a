"""The credential types: which fields each holds, which are required and which are secret.

A type is data; the HTTP node (nodes/http_request/credentials.py) knows how to apply each one
to a request. `generic` holds any string fields (for nodes of other kinds)."""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_VALUE_CHARS = 16 * 1024
MAX_GENERIC_FIELDS = 50
FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$")
# RFC 9110 token: what a header name may be.
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")


@dataclass(frozen=True)
class CredentialType:
    """A credential type: its fields (in display order), which are required and which are secret."""

    type: str
    title: str
    fields: tuple = ()
    required: tuple = ()
    # Fields whose values are masked wherever a node run's data is stored. The others
    # (a header's name, a token URL, a scope) say how to use the secret, not what it is.
    secret: tuple = ()
    any_fields: bool = False
    description: str = ""

    def as_dict(self):
        return {
            "type": self.type,
            "title": self.title,
            "description": self.description,
            "fields": [{"name": name, "required": name in self.required, "secret": name in self.secret}
                       for name in self.fields],
            "any_fields": self.any_fields,
        }

    def secret_values(self, data):
        names = data if self.any_fields else self.secret
        return {data[name] for name in names if isinstance(data.get(name), str) and data[name]}

    def problems(self, data):
        """{field: message} of what is wrong with `data` for this type (empty when it is fine)."""
        if not isinstance(data, dict):
            return {"data": "must be an object of string fields"}
        problems = {}
        if self.any_fields:
            if not data:
                problems["data"] = "give at least one field"
            if len(data) > MAX_GENERIC_FIELDS:
                problems["data"] = f"at most {MAX_GENERIC_FIELDS} fields"
        for name, value in data.items():
            if not self.any_fields and name not in self.fields:
                problems[name] = f"unknown field for {self.type} (fields: {', '.join(self.fields)})"
            elif self.any_fields and not FIELD_NAME.match(name):
                problems[name] = "field names are letters, digits, _ . - (at most 100, not starting with a digit)"
            elif not isinstance(value, str):
                problems[name] = "must be a string"
            elif len(value) > MAX_VALUE_CHARS:
                problems[name] = f"at most {MAX_VALUE_CHARS} characters"
        for name in self.required:
            if name not in problems and not (isinstance(data.get(name), str) and data[name]):
                problems[name] = "this field is required"
        check = _EXTRA_CHECKS.get(self.type)
        if check:
            for name, message in check(data):
                problems.setdefault(name, message)
        return problems


def _no_line_breaks(data, names):
    for name in names:
        value = data.get(name)
        if isinstance(value, str) and ("\r" in value or "\n" in value):
            yield name, "must not contain line breaks (it is sent in an HTTP header)"


def _http_header_checks(data):
    name = data.get("name")
    if isinstance(name, str) and name and not HEADER_NAME.match(name):
        yield "name", "not a valid HTTP header name"
    yield from _no_line_breaks(data, ("value",))


def _basic_checks(data):
    username = data.get("username")
    if isinstance(username, str) and ":" in username:
        yield "username", "must not contain ':' (HTTP basic auth separates it from the password with one)"
    yield from _no_line_breaks(data, ("username", "password"))


def _oauth2_checks(data):
    url = data.get("token_url")
    if isinstance(url, str) and url:
        try:
            parts = urlsplit(url)
            valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:
            valid = False
        if not valid:
            yield "token_url", "must be an absolute http:// or https:// URL"
    if data.get("client_auth") not in (None, "header", "body"):
        yield "client_auth", 'must be "header" (HTTP basic, the default) or "body" (form fields)'


def _generic_checks(data):
    # The HTTP node sends generic fields as headers.
    return _no_line_breaks(data, list(data))


_EXTRA_CHECKS = {
    "http_header": _http_header_checks,
    "http_basic": _basic_checks,
    "bearer": lambda data: _no_line_breaks(data, ("token",)),
    "oauth2_client_credentials": _oauth2_checks,
    "generic": _generic_checks,
}

TYPES = {
    t.type: t
    for t in (
        CredentialType("http_header", "HTTP header", fields=("name", "value"), required=("name", "value"),
                       secret=("value",), description="Sends one header, e.g. X-API-Key: <value>."),
        CredentialType("http_basic", "HTTP basic auth", fields=("username", "password"), required=("username",),
                       secret=("username", "password"), description="Authorization: Basic <username:password>."),
        CredentialType("bearer", "Bearer token", fields=("token",), required=("token",), secret=("token",),
                       description="Authorization: Bearer <token>."),
        CredentialType(
            "oauth2_client_credentials", "OAuth2 client credentials",
            fields=("token_url", "client_id", "client_secret", "scope", "client_auth"),
            required=("token_url", "client_id", "client_secret"), secret=("client_id", "client_secret"),
            description="The worker gets an access token from token_url (grant client_credentials, through the "
            "network guard), caches it until it expires and sends Authorization: Bearer <access token>. "
            'client_auth: "header" (HTTP basic, default) or "body".',
        ),
        CredentialType("generic", "Generic key/value", any_fields=True,
                       description="Any string fields; every value is secret. The HTTP node sends each field as "
                       "a header named after it."),
    )
}
