"""Pinned data (DEBUGGING.md): a node of a draft run that completes with a fixed output instead of running.

A pin is the output itself, or `{"port": …, "output": …}` (exactly those two keys) for a node
whose port matters (If, Switch). Only runs of a draft honour pins: a published version runs
without them (strip_pins), which is why publishing warns about them.
"""

from engine.graph import MAIN

PORT_FORM_KEYS = frozenset(("port", "output"))


def is_port_form(pin):
    """Whether a pin names its port: a dict of exactly `port` (a string) and `output`."""
    return isinstance(pin, dict) and set(pin) == PORT_FORM_KEYS and isinstance(pin["port"], str)


def pin_outcome(pin):
    """(output, ports) a pinned node completes with."""
    if is_port_form(pin):
        return pin["output"], (pin["port"],)
    return pin, (MAIN,)


def pins_of(document):
    """The document's pins, {node id: pin} ({} when it has none)."""
    pins = document.get("pins") if isinstance(document, dict) else None
    return pins if isinstance(pins, dict) else {}


def strip_pins(document):
    """The document as a published version runs it: without pins (and without its test cases,
    which only the draft's tests read)."""
    if not isinstance(document, dict) or ("pins" not in document and "tests" not in document):
        return document
    return {key: value for key, value in document.items() if key not in ("pins", "tests")}
