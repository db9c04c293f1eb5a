from engine.redaction import MASK, redact


def test_secrets_are_masked_at_any_depth_in_values_and_keys():
    value = {"headers": {"authorization": "Bearer tok-123456"}, "list": ["x tok-123456 y", 3], "tok-123456": 1}
    assert redact(value, {"tok-123456"}) == {"headers": {"authorization": f"Bearer {MASK}"}, "list": [f"x {MASK} y", 3],
                                             MASK: 1}


def test_short_values_are_not_treated_as_secrets():
    assert redact({"a": "abc"}, {"ab"}) == {"a": "abc"}


def test_longer_secrets_are_masked_before_their_substrings():
    assert redact("user:password123", {"password", "password123"}) == f"user:{MASK}"
