"""Where tests find the project's shared/ folder (the specs, the acceptance suites).

$NODEFLOW_SHARED_DIR when set, else shared/ beside the checkout (as on developer machines
and in CI), so a checkout placed elsewhere points the tests at it with one variable."""

import os
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]


def shared_dir():
    """The shared/ folder: $NODEFLOW_SHARED_DIR, else the checkout's sibling `shared`."""
    override = os.environ.get("NODEFLOW_SHARED_DIR")
    return Path(override).expanduser() if override else CHECKOUT.parent / "shared"


def shared_file(*parts):
    """A file under shared/; fails with what to set when it is not there."""
    path = shared_dir().joinpath(*parts)
    assert path.is_file(), f"{path} not found: set NODEFLOW_SHARED_DIR to the shared/ folder (specs, acceptance suites)"
    return path
