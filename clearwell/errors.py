"""Errors the command line reports as one line and a non-zero exit."""


class ClearwellError(Exception):
    """An error whose message is meant for the person at the terminal, as is."""


class ConfigError(ClearwellError):
    """A setting is missing or malformed."""


class DatabaseError(ClearwellError):
    """The database could not be reached or refused what was asked."""


class MigrationError(ClearwellError):
    """A migration failed; nothing of it was applied."""
