"""``sora-uq elicit``: fits checked against closed forms, the TOML block round trip, bad input."""

import json
import math
import re
import tomllib

import pytest
from scipy import stats

from tests.conftest import run_cli

Q = ("--q", "0.1=4", "--q", "0.5=6", "--q", "0.9=10")
BOUNDED = ("--q", "0.1=0.25", "--q", "0.5=0.38", "--q", "0.9=0.55", "--lower", "0", "--upper",
           "1")


def elicit(*args: str):
    result = run_cli("elicit", *args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result


def elicit_json(*args: str) -> dict:
    return json.loads(elicit(*args, "--json").stdout)


def table_rows(text: str) -> dict[str, list[str]]:
    """Markdown table rows of the output: first cell -> the other cells."""
    rows = {}
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("| quantile"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = cells[1:]
    return rows


def toml_block(text: str) -> str:
    return text[text.index("[assumptions."):]


def test_metalog_gives_back_the_stated_quantiles():
    out = elicit(*Q).stdout
    assert out.startswith("metalog(0.1: 4, 0.5: 6, 0.9: 10)")
    assert "feasible: yes" in out
    rows = table_rows(out)  # quantile | stated | metalog
    assert [rows[p] for p in ("10%", "50%", "90%")] == [["4", "4"], ["6", "6"], ["10", "10"]]
    assert [rows[p] for p in ("1%", "99%")] == [["", "2.29"], ["", "14.8"]]
    # the sketch: block characters 50 to 70 wide, labelled with the 1% and 99% values
    sketch = out[out.index("density"):out.index("Paste")].strip().splitlines()[1:]
    assert 50 <= max(len(line) for line in sketch) <= 70
    assert sketch[-1].startswith("2.29 (1%)") and sketch[-1].endswith("14.8 (99%)")
    doc = elicit_json(*Q)
    assert doc["family"] == "metalog" and doc["feasible"] is True
    assert doc["params"] == {"quantiles": [[0.1, 4.0], [0.5, 6.0], [0.9, 10.0]]}
    assert doc["stated"] == {"0.1": 4.0, "0.5": 6.0, "0.9": 10.0}
    for p, value in doc["stated"].items():
        assert doc["quantiles"][p] == pytest.approx(value, rel=1e-6)
    # the three-term metalog through symmetric quantiles: M(y) = a1 + a2 L + a3 (y - 1/2) L,
    # at y = 0.1 and 0.9 (L = -+ln 9): 4 = a1 - a2 ln9 + 0.4 a3 ln9, 10 = a1 + a2 ln9 + 0.4 a3 ln9
    a1, ln9 = 6.0, math.log(9)
    a3 = (4 + 10 - 2 * a1) / (0.8 * ln9)
    a2 = (10 - 4) / (2 * ln9)

    def m(y):
        logit = math.log(y / (1 - y))
        return a1 + a2 * logit + a3 * (y - 0.5) * logit

    for p in ("0.01", "0.05", "0.25", "0.75", "0.95", "0.99"):
        assert doc["quantiles"][p] == pytest.approx(m(float(p)), rel=1e-6)
    assert m(0.1) == pytest.approx(4) and m(0.9) == pytest.approx(10)


def test_five_stated_quantiles_come_back_in_json_to_1e_6():
    doc = elicit_json("--q", "0.05=3", "--q", "0.25=5", "--q", "0.5=6", "--q", "0.75=8",
                      "--q", "0.95=12")
    for p, value in (("0.05", 3), ("0.25", 5), ("0.5", 6), ("0.75", 8), ("0.95", 12)):
        assert doc["quantiles"][p] == pytest.approx(value, rel=1e-6)


def test_bounded_metalog_tails():
    doc = elicit_json(*BOUNDED)
    assert doc["params"]["lower"] == 0 and doc["params"]["upper"] == 1
    assert doc["quantiles"]["0.01"] == pytest.approx(0.149, abs=0.002)
    assert doc["quantiles"]["0.99"] == pytest.approx(0.726, abs=0.002)
    assert doc["quantiles"]["0.5"] == pytest.approx(0.38, rel=1e-6)


def test_lognormal_interval_at_the_default_level():
    doc = elicit_json("--ci", "4", "10", "--family", "lognormal")
    assert doc["family"] == "lognormal"
    assert doc["params"]["median"] == pytest.approx(math.sqrt(40), rel=1e-9)
    assert doc["params"]["sigma"] == pytest.approx(math.log(10 / 4) / (2 * stats.norm.ppf(0.95)))
    assert doc["quantiles"]["0.5"] == pytest.approx(math.sqrt(40), rel=1e-6)
    assert doc["quantiles"]["0.05"] == pytest.approx(4, rel=1e-6)
    assert doc["quantiles"]["0.95"] == pytest.approx(10, rel=1e-6)
    assert tomllib.loads(doc["toml"])["assumptions"]["my_assumption"]["level"] == 0.9
    text = elicit("--ci", "4", "10", "--family", "lognormal").stdout
    assert text.startswith("lognormal(median=6.325, sigma=0.2785)")
    assert table_rows(text)["5%"] == ["4", "4"] and table_rows(text)["95%"] == ["10", "10"]


def test_compare_three_fits():
    doc = elicit_json(*Q, "--compare")
    fits = doc["compare"]
    assert set(fits) == {"metalog", "lognormal", "pert"}
    assert all(fit["why"] is None for fit in fits.values())
    assert fits["metalog"]["quantiles"] == doc["quantiles"]
    # symmetric z (z(0.1) = -z(0.9), z(0.5) = 0): the least-squares log-median is the mean log
    geometric_mean = (4 * 6 * 10) ** (1 / 3)
    assert fits["lognormal"]["params"]["median"] == pytest.approx(geometric_mean, rel=1e-9)
    assert fits["lognormal"]["quantiles"]["0.5"] == pytest.approx(geometric_mean, rel=1e-6)
    z = stats.norm.ppf(0.9)
    sigma = (math.log(10) - math.log(4)) / (2 * z)  # slope of log x on z through +-z
    assert fits["lognormal"]["params"]["sigma"] == pytest.approx(sigma, rel=1e-9)
    pert = fits["pert"]["params"]
    assert pert["low"] < 4 and pert["high"] > 10 and pert["low"] <= pert["mode"] <= pert["high"]
    # they agree at the median within their fitting error, and differ in the tails
    for fit in fits.values():
        assert abs(fit["quantiles"]["0.5"] - 6) <= fit["max_miss"] + 1e-6
    for tail in ("0.01", "0.99"):
        values = [fit["quantiles"][tail] for fit in fits.values()]
        assert max(values) - min(values) > 0.5
    text = elicit(*Q, "--compare").stdout
    rows = table_rows(text)
    assert rows["50%"] == ["6", "6", "6.21", "6"]  # stated | metalog | lognormal | pert
    assert len({*rows["1%"][1:]}) == 3 and len({*rows["99%"][1:]}) == 3


def test_compare_says_which_fit_could_not_be_made():
    args = ("--q", "0.05=-3", "--q", "0.5=1", "--q", "0.95=4", "--compare")
    text = elicit(*args).stdout
    assert "lognormal: not fitted: a lognormal needs every value > 0" in text
    assert "| quantile | stated | metalog | pert |" in text
    fits = elicit_json(*args)["compare"]
    assert fits["lognormal"]["quantiles"] is None and "> 0" in fits["lognormal"]["why"]
    assert fits["pert"]["quantiles"] is not None


def test_compare_pert_keeps_the_bounds():
    pert = elicit_json(*BOUNDED, "--compare")["compare"]["pert"]["params"]
    assert pert["low"] == 0 and pert["high"] == 1


@pytest.mark.parametrize("args", [
    Q,
    (*BOUNDED, "--terms", "2", "--name", "video_fraction"),
    ("--ci", "0.2", "0.6", "--level", "0.8", "--family", "beta"),
    ("--ci", "4", "10", "--family", "loguniform"),
    ("--q", "0.1=4e9", "--q", "0.5=2e10", "--q", "0.9=8e10", "--lower", "0", "--name", "p"),
])
def test_toml_block_loads_to_the_same_quantiles(args):
    from uncertainty.families import build

    result = elicit(*args)
    data = tomllib.loads('[meta]\nname = "elicited"\n\n' + toml_block(result.stdout))
    [(name, spec)] = data["assumptions"].items()
    assert name == (args[args.index("--name") + 1] if "--name" in args else "my_assumption")
    assert "REPLACE" in spec["source"]
    dist = build(spec, where=name)
    doc = elicit_json(*args)
    assert toml_block(result.stdout) == doc["toml"]
    for p, value in doc["quantiles"].items():
        assert dist.quantile(float(p)) == pytest.approx(value, rel=2e-5, abs=1e-6)


@pytest.mark.parametrize(("args", "message"), [
    (("--q", "0.1:4", "--q", "0.5=6", "--q", "0.9=10"), "must be P=VALUE"),
    (("--q", "0.1=four", "--q", "0.5=6", "--q", "0.9=10"), "must be P=VALUE"),
    (("--q", "1.2=4", "--q", "0.5=6", "--q", "0.9=10"), "strictly between 0 and 1"),
    (("--q", "0=4", "--q", "0.5=6", "--q", "0.9=10"), "strictly between 0 and 1"),
    (("--q", "0.1=4", "--q", "0.9=10"), "at least 3 --q"),
    (("--q", "0.5=4", "--q", "0.1=6", "--q", "0.9=10"), "probabilities must increase"),
    (("--q", "0.1=4", "--q", "0.5=3", "--q", "0.9=10"), "values must increase"),
    ((*Q, "--lower", "5"), "above --lower 5"),
    ((*Q, "--lower", "0", "--upper", "9"), "below --upper 9"),
    ((*Q, "--upper", "20"), "--upper needs --lower"),
    ((*Q, "--ci", "4", "10"), "not both"),
    ((), "give quantiles"),
    (("--family", "lognormal"), "--family goes with --ci"),
    ((*Q, "--family", "lognormal"), "--family goes with --ci"),
    (("--ci", "4", "10"), "--ci needs --family"),
    (("--ci", "4", "10", "--family", "normal", "--compare"), "--compare goes with --q"),
    (("--q", "0.1=1", "--q", "0.5=9", "--q", "0.9=10"), "no valid metalog"),
    (("--q", "0.1=1", "--q", "0.5=9", "--q", "0.9=10", "--json"), "no valid metalog"),
    ((*Q, "--terms", "5"), "'terms' must be from 2"),
    (("--ci", "-1", "10", "--family", "lognormal"), "positive bounds"),
    (("--ci", "4", "10", "--family", "beta"), "0 < low < high < 1"),
    (("--ci", "4", "10", "--family", "normal", "--level", "1"), "between 0 and 1"),
    ((*Q, "--name", "my assumption"), "assumption name"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    result = run_cli("elicit", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sora-uq: error: ")
    assert message in lines[0], lines[0]
    assert not re.search(r"Traceback", result.stderr)


def test_sketch_of_a_loguniform_is_flat_on_its_log_axis():
    out = elicit("--ci", "1", "1000", "--family", "loguniform").stdout
    sketch = out[out.index("density"):out.index("Paste")].strip().splitlines()
    assert sketch[0].endswith("(log axis):")
    bars = sketch[1:-1]
    assert len(bars) == 6 and all(line == "█" * 60 for line in bars)


def test_sketch_falls_back_to_ascii(monkeypatch):
    from uncertainty import cli

    # the module the command runs: when pytest is also given elicit.py by path (for its
    # doctests), it imports a second copy of it, which the command line never calls
    module = next(m for m in cli.COMMANDS if m.__name__ == "uncertainty.cli.elicit")

    monkeypatch.setattr(module, "_can_print", lambda text: False)
    out = elicit(*Q).stdout
    sketch = out[out.index("density"):out.index("Paste")].strip().splitlines()[1:-1]
    assert set("".join(sketch)) <= {"#", " "} and "#" in "".join(sketch)


def test_toml_numbers_read_the_way_people_write_them():
    out = elicit("--q", "0.1=4e9", "--q", "0.5=2.5e10", "--q", "0.9=8e10", "--lower", "0").stdout
    assert "quantiles = [[0.1, 4e9], [0.5, 2.5e10], [0.9, 8e10]]" in toml_block(out)
    assert "lower = 0.0" in toml_block(out)
