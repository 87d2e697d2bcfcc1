"""Errors by what an operator should do about them."""


class PermanentError(Exception):
    """Retrying cannot help (bad configuration, rejected credentials, a rejected batch): the
    task fails at once with this one-line cause instead of being retried."""
