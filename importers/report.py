"""The import report (IMPORT.md): what was translated, what was not, and what to look at."""

from dataclasses import dataclass, field


@dataclass
class ImportReport:
    """Every source node is in `translated` or `untranslated`; nothing is dropped silently."""

    translated: list = field(default_factory=list)
    untranslated: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    def add_translated(self, source, target, notes=(), **extra):
        self.translated.append({"from": source, "to": target, "notes": list(notes), **extra})

    def add_untranslated(self, source, reason, **extra):
        self.untranslated.append({"from": source, "reason": reason, **extra})

    def warn(self, message):
        if message not in self.warnings:
            self.warnings.append(message)

    def as_dict(self):
        return {"translated": self.translated, "untranslated": self.untranslated, "warnings": self.warnings}


class NotThisFormat(ValueError):
    """The document is not a document of the format it was imported as."""

    def __init__(self, message, details=None):
        super().__init__(message)
        self.details = details or {}
