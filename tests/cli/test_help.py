"""``--help`` is written for users: no developer docstring, no reST or doctest markup."""

import pytest
from conftest import run_cli

from uncertainty.cli import COMMANDS

DEVELOPER_MARKS = ("``", ":func:", ":mod:", ":class:", ">>>", "Parse, call, print", "Parameters\n")


@pytest.mark.parametrize("argv", [["--help"]] + [[c.__name__.rsplit(".", 1)[-1], "--help"]
                                                 for c in COMMANDS], ids=lambda a: a[0])
def test_help_is_for_users(argv):
    result = run_cli(*argv)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: sora-uq")
    for mark in DEVELOPER_MARKS:
        assert mark not in result.stdout, mark


def test_top_level_help_says_what_the_tool_does_and_where_to_start():
    text = run_cli("--help").stdout
    assert "Credible intervals" in text and "Start here:" in text and "Exit status" in text
