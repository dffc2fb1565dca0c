"""The errors wdlab raises for bad settings: a module that imports nothing, so every layer can use it."""
from __future__ import annotations


class ConfigError(ValueError):
    """A setting is invalid; `field` names it (a key of FIELDS) when one setting is to blame."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field
