"""The one exception a user should ever see: bad input, reported in one line and exit status 2."""

__all__ = ["FLOAT32_ADVICE", "NAN_CAUSES", "PriorError", "UserError", "not_finite", "one_line"]

# Why an output is not finite: an infinity is priors carrying the model past float32's range
# (its draws are float32); a NaN is the model undefined (or an infinity's consequence).
FLOAT32_ADVICE = ("the model computes in 32-bit floats, which end at 3.4e38; narrow the prior "
                  "that reaches that far")
NAN_CAUSES = ("the model is undefined there (a log or square root of a negative number, 0/0, "
              "inf / inf)")


def not_finite(values) -> tuple[str, str]:
    """What is wrong with ``values`` that are not all finite, and why: ("inf", what to change)
    when one is infinite, else ("NaN", its usual causes).

    >>> not_finite([1.0, float("inf")])[0], not_finite([float("nan")])[0]
    ('inf', 'NaN')
    """
    import numpy as np

    return ("inf", FLOAT32_ADVICE) if np.isinf(values).any() else ("NaN", NAN_CAUSES)


class UserError(Exception):
    """Bad input from the user (a file, a flag, a path). The CLI prints it and exits 2."""


class PriorError(UserError):
    """A prior or evidence file breaks a rule. The message names the file, the key and the rule."""


def one_line(message: object) -> str:
    """``message`` on one line: a line break or another control character that a file or a flag
    carried into it is shown escaped (``\\n``), so an error is always exactly one line.

    >>> one_line("p.toml: observation[0] (a\\nb): missing key 'value'")
    "p.toml: observation[0] (a\\\\nb): missing key 'value'"
    """
    text = str(message)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)
