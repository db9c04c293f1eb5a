"""Errors a node run can end with, classified so users and retry policies can act on them."""

TRANSIENT = "transient"
PERMANENT = "permanent"
TIMEOUT = "timeout"
SANDBOX = "sandbox"
CANCELLED = "cancelled"
ERROR_CLASSES = (TRANSIENT, PERMANENT, TIMEOUT, SANDBOX, CANCELLED)
RETRYABLE_BY_DEFAULT = frozenset({TRANSIENT, TIMEOUT})


class NodeError(Exception):
    """A node run failed; `error_class` says whether trying again could help."""

    def __init__(self, message, error_class=PERMANENT, *, code=None, details=None, traceback=None):
        if error_class not in ERROR_CLASSES:
            raise ValueError(f"unknown error class {error_class!r}")
        super().__init__(message)
        self.message = message
        self.error_class = error_class
        self.code = code
        self.details = details
        self.traceback = traceback

    def as_dict(self):
        error = {"class": self.error_class, "message": self.message}
        if self.code:
            error["code"] = self.code
        if self.details is not None:
            error["details"] = self.details
        if self.traceback:
            error["traceback"] = self.traceback
        return error
