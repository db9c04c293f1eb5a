"""Stored credentials applied to an `http.request`: header, basic, bearer, generic, and an
OAuth2 client-credentials client whose access tokens are cached per process.

`credential` names a stored credential of the execution's owner: it is decrypted here,
in the worker, applied to the request, and every secret value of it is added to
`call.secrets`, which the runtime masks in everything it stores.

Shared by every version of the node: a version imports this module, never another version."""

import base64
import json
import threading
import time
from urllib.parse import quote_plus, urlencode

import requests
import urllib3

from engine.errors import PERMANENT, TRANSIENT, NodeError
from nodes.http_request.errors import shown_url, status_text, transport_error
from nodes.http_request.guard import check_url
from nodes.http_request.transport import session


def apply_credential(credential_id, headers, call):
    """Add the stored credential `credential_id` of the execution's owner to `headers`.

    Its secret values (and what is derived from them: an encoded basic-auth pair, an
    OAuth2 access token) go into `call.secrets` before anything is sent. Returns the
    names of the headers it set: they are dropped on a redirect to another origin.
    Another user's credential fails the node exactly like a missing one."""
    from credentials.services import CredentialUnavailable, credential_for_node

    try:
        credential = credential_for_node(call, credential_id)
    except CredentialUnavailable as exc:
        raise NodeError(str(exc), PERMANENT, code="http.no_credential") from None
    data = credential.data
    if credential.type == "http_header":
        added = {data["name"]: data["value"]}
    elif credential.type == "http_basic":
        pair = base64.b64encode(f"{data['username']}:{data.get('password', '')}".encode()).decode("ascii")
        call.secrets.add(pair)
        added = {"Authorization": f"Basic {pair}"}
    elif credential.type == "bearer":
        added = {"Authorization": f"Bearer {data['token']}"}
    elif credential.type == "oauth2_client_credentials":
        added = {"Authorization": f"Bearer {oauth2_token(credential, call)}"}
    elif credential.type == "generic":
        added = dict(data)
    else:
        raise NodeError(f"credential {credential_id!r} has type {credential.type!r}, which http.request cannot use",
                        PERMANENT, code="http.no_credential")
    for name, value in added.items():
        for existing in [key for key in headers if key.lower() == name.lower()]:
            del headers[existing]  # the credential wins over a header of the same name in params
        headers[name] = value
    call.log(f"credential {credential.id} ({credential.type}) applied")
    return set(added)


# -- OAuth2 client credentials (RFC 6749 §4.4)

OAUTH2_TIMEOUT_S = 30
OAUTH2_DEFAULT_LIFETIME_S = 300  # when the token endpoint does not say (expires_in)
OAUTH2_EXPIRY_MARGIN_S = 30  # a token that expires sooner than this is fetched again
OAUTH2_MAX_ANSWER_BYTES = 256 * 1024
_oauth2_tokens = {}  # (credential id, version) -> (access token, monotonic expiry): this process only
_oauth2_lock = threading.Lock()


def oauth2_token(credential, call):
    """An access token for the client-credentials credential: cached in this process until it
    nearly expires, else fetched from token_url (through the network guard, no redirects)."""
    key = (credential.id, credential.version)
    with _oauth2_lock:
        cached = _oauth2_tokens.get(key)
    if cached is not None and cached[1] - OAUTH2_EXPIRY_MARGIN_S > time.monotonic():
        call.secrets.add(cached[0])
        return cached[0]
    token, lifetime = _fetch_oauth2_token(credential.data, call)
    call.secrets.add(token)
    with _oauth2_lock:
        for stale in [k for k in _oauth2_tokens if k[0] == credential.id or _oauth2_tokens[k][1] < time.monotonic()]:
            del _oauth2_tokens[stale]
        _oauth2_tokens[key] = (token, time.monotonic() + lifetime)
    call.log(f"OAuth2 token fetched from {shown_url(credential.data['token_url'])} (valid {lifetime:g} s)")
    return token


def _fetch_oauth2_token(data, call):
    url = data["token_url"]
    check_url(url)
    form = {"grant_type": "client_credentials"}
    if data.get("scope"):
        form["scope"] = data["scope"]
    headers = {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}
    if data.get("client_auth") == "body":
        form.update(client_id=data["client_id"], client_secret=data["client_secret"])
    else:
        # RFC 6749 §2.3.1: both parts form-encoded, then basic auth.
        pair = f"{quote_plus(data['client_id'])}:{quote_plus(data['client_secret'])}"
        encoded = base64.b64encode(pair.encode()).decode("ascii")
        call.secrets.add(encoded)
        headers["Authorization"] = f"Basic {encoded}"
    target = f"the OAuth2 token endpoint {shown_url(url)}"
    try:
        response = session().post(url, data=urlencode(form).encode(), headers=headers, allow_redirects=False,
                                  stream=True, timeout=(OAUTH2_TIMEOUT_S, OAUTH2_TIMEOUT_S))
        with response:
            content = response.raw.read(OAUTH2_MAX_ANSWER_BYTES, decode_content=True)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        error = transport_error(exc, "POST", url, OAUTH2_TIMEOUT_S)
        error.message = f"getting an OAuth2 token: {error.message}"
        raise error from None
    try:
        answer = json.loads(content.decode("utf-8", errors="replace"))
    except ValueError:
        answer = None
    if response.status_code != 200 or not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
        error_class = TRANSIENT if response.status_code >= 500 or response.status_code == 429 else PERMANENT
        said = answer.get("error") if isinstance(answer, dict) and isinstance(answer.get("error"), str) else None
        detail = f" ({said})" if said else ""
        raise NodeError(
            f"{target} answered {status_text(response)}{detail} without an access_token; check the credential's "
            "client id, secret and scope",
            error_class,
            code="http.oauth2_token",
            details={"status": response.status_code, "body": content.decode("utf-8", errors="replace")[:4096]},
        )
    token = answer["access_token"]
    if not token or not token.isprintable() or len(token) > 16 * 1024:
        raise NodeError(f"{target} gave an access token that cannot be sent in a header (empty, too long or with "
                        "control characters)", PERMANENT, code="http.oauth2_token")
    token_type = answer.get("token_type", "bearer")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise NodeError(f"{target} gave a token of type {token_type!r}; only bearer tokens can be used",
                        PERMANENT, code="http.oauth2_token")
    expires_in = answer.get("expires_in")
    lifetime = float(expires_in) if isinstance(expires_in, (int, float)) and expires_in > 0 else OAUTH2_DEFAULT_LIFETIME_S
    return token, lifetime
