"""Masking secrets that show up where they must not: node inputs, outputs, logs, errors."""

MASK = "••••••"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary text


def redact(value, secrets):
    """`value` with every occurrence of any secret (in strings and keys, at any depth) masked."""
    secrets = sorted((s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH), key=len, reverse=True)
    if not secrets:
        return value
    return _redact(value, secrets)


def _redact(value, secrets):
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return {_redact(k, secrets): _redact(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact(item, secrets) for item in value]
    return value
