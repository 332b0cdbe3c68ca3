"""The one exception a user should ever see: bad input, reported in one line and exit status 2."""

__all__ = ["PriorError", "UserError"]


class UserError(Exception):
    """Bad input from the user (a file, a flag, a path). The CLI prints it and exits 2."""


class PriorError(UserError):
    """A prior or evidence file breaks a rule. The message names the file, the key and the rule."""
