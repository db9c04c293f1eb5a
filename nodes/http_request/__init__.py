"""The `http.request` node type, one module per version (`v1.py`, later `v2.py`…).

What every version shares sits beside them, so a new version imports these and never
an older version: `transport.py` (the pooled session, redirects, reading the body),
`credentials.py` (stored credentials, the OAuth2 client), `errors.py` (classifying
failures) and `guard.py`, which decides which URLs the node may request; every hop of
a redirect chain goes through it."""
