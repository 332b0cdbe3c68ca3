"""The CLI end to end, and every class of bad input: exit 2, one line, nothing written."""

import json

import pytest
import xarray as xr
from conftest import ARTICLE, ROOT, run_cli, run_python, write_priors


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports") / "article"
    result = run_cli("report", "--priors", str(ARTICLE), "--samples", "20000", "--seed", "7",
                     "--out", str(out), subprocess_=True)
    assert result.returncode == 0, result.stderr
    assert "training H100-months" in result.stdout
    return out


def test_report_writes_markdown_json_and_draws(report_dir):
    assert {p.name for p in report_dir.iterdir()} == {"report.md", "report.html", "summary.json",
                                                     "draws.nc", "figures", "manifest.json",
                                                     "timings.json"}
    doc = json.loads((report_dir / "summary.json").read_text())
    assert doc["seed"] == 7 and doc["samples"] == 20000 and doc["priors"]["name"] == "article"
    assert len(doc["priors"]["sha256"]) == 64
    for name in ("training_gpu_months", "breakeven_video_minutes", "fleet_gpus"):
        stats = doc["outputs"][name]
        assert stats["eti_90"][0] < stats["median"] < stats["eti_90"][1]
        assert 0 <= stats["article_percentile"] <= 1
    tree = xr.open_datatree(report_dir / "draws.nc")
    assert tree["prior"]["fleet_gpus"].shape == (1, 20000)
    fleet = doc["outputs"]["fleet_gpus"]  # streamed: within its stated bound of the exact median
    assert fleet["median"] == pytest.approx(float(tree["prior"]["fleet_gpus"].median()),
                                            rel=fleet["quantile_bound"])
    markdown = (report_dir / "report.md").read_text()
    for heading in ("Headline intervals", "every output", "Assumptions", "reproduced", "Run facts"):
        assert heading in markdown
    assert "**NO**" in markdown  # the article's inconsistent fleet lines
    assert "What drives the uncertainty" in markdown and "What to pin down next" in markdown
    assert set(doc["tornado"]["outputs"]) == set(doc["sobol"]["outputs"]) == set(doc["headline"])
    assert doc["pin_down_next"]["fleet_gpus"][0]["rank"] == 1


def test_report_json_flag_prints_summary(tmp_path):
    result = run_cli("report", "--samples", "2000", "--out", str(tmp_path / "r"), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["samples"] == 2000


def test_rerun_replaces_its_own_report_but_refuses_a_user_directory(tmp_path, report_dir):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious")
    result = run_cli("report", "--samples", "1000", "--out", str(mine))
    assert result.returncode == 2 and "--force" in result.stderr
    assert (mine / "notes.txt").read_text() == "precious"
    again = run_cli("report", "--samples", "1000", "--seed", "7", "--out", str(report_dir))
    assert again.returncode == 0, again.stderr
    assert json.loads((report_dir / "summary.json").read_text())["samples"] == 1000


def test_priors_validate_and_show():
    ok = run_cli("priors", "validate", str(ARTICLE))
    assert ok.returncode == 0 and "ok" in ok.stdout
    shown = run_cli("priors", "show", "article")
    assert shown.returncode == 0
    assert "sora_params" in shown.stdout and "20B" in shown.stdout and "article:" in shown.stdout


def test_version_and_help():
    assert run_cli("--version").stdout.startswith("sora-uq ")
    help_text = run_cli("--help").stdout
    assert "reproduce" in help_text and "Start here" in help_text and "explore" in help_text


BAD = {  # name -> (how to break the article priors, expected message fragment)
    "unknown family": ({"sora_params": {"dist": "gamma", "ci": [1e9, 2e9], "source": "s"}},
                       "sora_params: unknown family"),
    "missing source": ({"sora_params": {"dist": "lognormal", "ci": [1e9, 2e9]}},
                       "sora_params: missing key 'source'"),
    "unknown key": ({"sora_params": {"dist": "lognormal", "ci": [1e9, 2e9], "sigmaa": 1,
                                     "source": "s"}},
                    "sora_params: unknown key 'sigmaa'"),
    "interval out of order": ({"sora_params": {"dist": "lognormal", "ci": [9e9, 2e9],
                                               "source": "s"}},
                              "sora_params: interval out of order"),
    "non-positive bound": ({"sora_params": {"dist": "lognormal", "ci": [-1e9, 2e9], "source": "s"}},
                           "sora_params: lognormal needs positive bounds"),
    "positive family gets a normal": ({"fps": {"dist": "normal", "mean": 24, "sd": 1,
                                               "source": "s"}},
                                      "fps: must be > 0"),
    "share above one": ({"video_fraction": {"dist": "uniform", "low": 0.5, "high": 1.2,
                                            "source": "s"}},
                        "video_fraction: a share must lie in (0, 1]"),
    "share at zero": ({"tiktok_ai_share": {"dist": "fixed", "value": 0.0, "source": "s"}},
                      "tiktok_ai_share: a share must lie in (0, 1]"),
    "nan": ({"fps": {"dist": "fixed", "value": float("nan"), "source": "s"}},
            "fps: 'value' must be finite"),
    "infinity": ({"fps": {"dist": "fixed", "value": float("inf"), "source": "s"}},
                 "fps: 'value' must be finite"),
    "misspelt assumption": ({"sora_param": {"dist": "fixed", "value": 1e9, "source": "s"}},
                            "unknown assumption 'sora_param'; did you mean 'sora_params'?"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_prior_file_exits_2_with_one_line_and_writes_nothing(tmp_path, case):
    overrides, message = BAD[case]
    path = write_priors(tmp_path / "bad.toml", overrides)
    out = tmp_path / "out"
    # One case as a real process: no traceback there either.
    result = run_cli("report", "--priors", str(path), "--out", str(out), "--samples", "1000",
                     subprocess_=case == "nan")
    assert result.returncode == 2
    assert message in result.stderr and str(path) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]
    assert run_cli("priors", "validate", str(path)).returncode == 2


def test_priors_whose_draws_overflow_the_model_exit_2_naming_the_output_and_the_cause(tmp_path):
    # A valid file (`priors validate` accepts it) whose parameter count reaches 1e40: the
    # model's 32-bit arithmetic overflows for the largest draws. It once ended in an internal
    # error (NaN histogram edges), and the Sobol step in another.
    path = write_priors(tmp_path / "wide.toml", {
        "sora_params": {"dist": "lognormal", "ci": [5e9, 8e31], "source": "s"}})
    assert run_cli("priors", "validate", str(path)).returncode == 0
    out = tmp_path / "out"
    result = run_cli("report", "--priors", str(path), "--out", str(out), "--samples", "1000")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"sora-uq: error: {path}: output '")
    assert "overflows for some draws (inf)" in result.stderr
    assert "'sora_params' lies at the" in result.stderr
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["wide.toml"]


def test_missing_assumption(tmp_path):
    path = write_priors(tmp_path / "bad.toml", drop=("diffusion_steps",))
    result = run_cli("priors", "validate", str(path))
    assert result.returncode == 2 and "missing assumption 'diffusion_steps'" in result.stderr


def test_toml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[meta]\nname = \"x\"\n\n[assumptions.fps\ndist = \"fixed\"\n")
    result = run_cli("priors", "validate", str(path))
    assert (result.returncode == 2 and "TOML syntax error" in result.stderr
            and "line 4" in result.stderr)


@pytest.mark.parametrize("args, message", [
    (("report", "--priors", "no_such_priors"), "no such prior file or name"),
    (("report", "--priors", "missing/file.toml"), "no such file"),
    (("report", "--samples", "0"), "--samples"),
    (("report", "--samples", "-5"), "--samples"),
    (("report", "--samples", "1e12"), "--samples"),
    (("report", "--samples", "many"), "--samples"),
    (("report", "--seed", "x"), "--seed"),
    (("frobnicate",), "invalid choice"),
])
def test_bad_arguments_exit_2(args, message, tmp_path):
    result = run_cli(*args, "--out", str(tmp_path / "o")) if args[0] == "report" else run_cli(*args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


def test_out_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("keep me")
    result = run_cli("report", "--samples", "1000", "--out", str(target))
    assert result.returncode == 2 and "not a directory" in result.stderr
    assert target.read_text() == "keep me"


def test_same_priors_seed_and_version_give_byte_identical_reports(tmp_path):
    # Only timings.json may differ: a committed report regenerated with its own command shows
    # no change in git (it used to, for its wall time alone).
    docs, files = [], []
    for name in ("a", "b"):
        result = run_cli("report", "--samples", "3000", "--seed", "11",
                         "--out", str(tmp_path / name))
        assert result.returncode == 0, result.stderr
        docs.append(json.loads((tmp_path / name / "summary.json").read_text()))
        files.append({str(p.relative_to(tmp_path / name)): p.read_bytes()
                      for p in (tmp_path / name).rglob("*") if p.is_file()})
    assert "wall_seconds" not in docs[0]["run"] and "timings.json" in files[0]
    assert "wall" not in (tmp_path / "a" / "report.md").read_text()
    assert files[0].keys() == files[1].keys()
    assert [f for f in files[0] if files[0][f] != files[1][f]] == ["timings.json"]
    run = docs[0]["run"]
    assert (docs[0]["seed"] == 11 and docs[0]["samples"] == 3000
            and len(docs[0]["priors"]["sha256"]) == 64)
    assert {"sora-uq", "jax", "numpyro", "arviz", "xarray", "python"} <= set(run["versions"])
    assert docs[0]["command"][:2] == ["sora-uq", "report"] and "--seed" in docs[0]["command"]


def test_a_report_above_its_error_target_says_so_on_stderr(tmp_path):
    """2,000 draws leave the headline quantiles' error far above the 1% a fixed-size run is
    held to: the printed table would look as sure as any other, so a warning goes with it
    (the report's run facts say the same); 500 draws are too few to state an error at all."""
    few = run_cli("report", "--samples", "2000", "--no-sensitivity", "--quiet",
                  "--out", str(tmp_path / "few"))
    assert few.returncode == 0, few.stderr
    error = json.loads((tmp_path / "few" / "summary.json").read_text())[
        "headline_max_relative_mcse"]
    assert error > 0.01
    assert few.stderr.splitlines() == [
        "sora-uq: WARNING: largest relative Monte Carlo error of a headline 5%, 50% or 95% "
        f"quantile: {100 * error:.2f}%, ABOVE the 1.00% target: raise --max-samples or --samples"]
    assert f"{100 * error:.2f}%, ABOVE the 1.00% target" in \
        (tmp_path / "few" / "report.md").read_text("utf-8")
    fewer = run_cli("report", "--samples", "500", "--no-sensitivity", "--quiet",
                    "--out", str(tmp_path / "fewer"))
    assert "not stated: too few draws (500)" in fewer.stderr and "WARNING" in fewer.stderr


def test_adaptive_qmc_report_states_its_sampler_checks_and_error(tmp_path):
    out = tmp_path / "qmc"
    result = run_cli("report", "--sampler", "qmc", "--rtol", "0.02", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # --quiet, and stderr is not a terminal anyway
    doc = json.loads((out / "summary.json").read_text())
    run = doc["run"]
    assert run["sampler"].startswith("quasi-Monte Carlo") and run["rtol"] == 0.02
    assert run["converged"] and doc["headline_max_relative_mcse"] <= 0.02
    assert run["checks"][-1]["samples"] == doc["samples"]
    assert all(c["max_relative_mcse"] > 0.02 for c in run["checks"][:-1])
    assert doc["command"][-4:] == ["--seed", "0", "--sampler", "qmc"] and "--rtol" in doc["command"]
    tree = xr.open_datatree(out / "draws.nc")
    assert "first" in tree["prior"].attrs["subsample"] or doc["samples"] <= run["kept_draws"]
    assert "quasi-Monte Carlo draws" in (out / "report.md").read_text()


@pytest.mark.parametrize("args, message", [
    (["--samples", "1000", "--rtol", "0.01"], "not both"),
    (["--rtol", "0"], "--rtol: must be a relative error"),
    (["--sampler", "sobol"], "invalid choice"),
    (["--coordinator", "127.0.0.1:1234"],
     "--coordinator, --num-processes and --process-id together"),
    (["--coordinator", "127.0.0.1:1234", "--num-processes", "2", "--process-id", "2"],
     "--process-id must be in [0, 2)"),
])
def test_bad_run_options_are_one_line_exit_2_and_write_nothing(tmp_path, args, message):
    out = tmp_path / "never"
    result = run_cli("report", *args, "--out", str(out))
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not out.exists()


def test_starting_the_cli_does_not_start_jax_and_every_public_name_resolves():
    # --help and --version must answer at once, and a Ctrl-C while JAX loads must reach the
    # CLI's handler: so the package imports its names on first use.
    code = ("import sys, uncertainty.cli, uncertainty\n"
            "uncertainty.cli.build_parser()\n"
            "assert 'jax' not in sys.modules, 'the CLI started JAX'\n"
            "import uncertainty.sampling, uncertainty.streaming\n"
            "from uncertainty import simulate\n"
            "assert callable(simulate) and simulate.__module__ == 'uncertainty.sampling'\n"
            "assert uncertainty.simulate is simulate\n"
            "assert all(getattr(uncertainty, name) is not None for name in uncertainty.__all__)\n")
    result = run_python(code)
    assert result.returncode == 0, result.stderr


def test_reproduce_starts_no_jax_and_no_plotting():
    # `reproduce` is a table of the article's arithmetic: it used to import JAX, xarray,
    # matplotlib and SciPy through the report writer (3 CPU-seconds for 0.2 of work).
    code = ("import sys\nfrom uncertainty.cli import main\n"
            "assert main(['reproduce']) == 0\n"
            "heavy = sorted({'jax', 'xarray', 'matplotlib', 'scipy'} & set(sys.modules))\n"
            "assert not heavy, f'reproduce imported {heavy}'\n")
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert "| DiT-XL training, H100-months |" in result.stdout


def test_sobol_imports_neither_xarray_nor_plotting():
    # A table of indices: no DataTree, no figure (xarray and pandas cost it 15% of its CPU time).
    code = ("import sys, contextlib, io\nfrom uncertainty.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert main(['sobol', '--priors', 'article', '--output', 'fleet_gpus',"
            " '--n', '256']) == 0\n"
            "heavy = sorted({'xarray', 'pandas', 'matplotlib', 'arviz', 'numpyro'}"
            " & set(sys.modules))\n"
            "assert not heavy, f'sobol imported {heavy}'\n")
    result = run_python(code)
    assert result.returncode == 0, result.stderr


def test_priors_show_and_elicit_start_no_jax_for_any_family(tmp_path):
    # `priors show` is a table: its quantiles are the families' exact ones (SciPy, on the host)
    # and it does not trace the model, so it starts no JAX (it took 1.4 CPU-seconds with it);
    # `elicit` fits and tabulates the same way.
    pooled = write_priors(tmp_path / "pooled.toml", drop=("sora_params", "diffusion_steps"),
                          extra='''
[assumptions.sora_params]
dist = "mixture"
components = [{ dist = "lognormal", median = 5e9, sigma = 0.5 },
              { dist = "lognormal", median = 20e9, sigma = 0.5 }]
unit = "parameters"
source = "two experts"

[assumptions.diffusion_steps]
dist = "metalog"
quantiles = [[0.1, 30.0], [0.5, 50.0], [0.9, 250.0]]
lower = 1.0
source = "a guess"
''')
    code = ("import sys\nfrom uncertainty.cli import main\n"
            "for path in sys.argv[1:]:\n"
            "    assert main(['priors', 'show', path]) == 0\n"
            "    assert main(['priors', 'show', path, '--json']) == 0\n"
            "assert main(['elicit', '--q', '0.1=4', '--q', '0.5=6', '--q', '0.9=10',"
            " '--compare']) == 0\n"
            "assert main(['elicit', '--ci', '0.3', '0.7', '--family', 'beta']) == 0\n"
            "assert 'jax' not in sys.modules, 'priors show or elicit started JAX'\n")
    result = run_python(code.replace("sys.argv[1:]", repr(["article", "informed-2026",
                                                            str(pooled)])))
    assert result.returncode == 0, result.stderr
    # the pool of two equal experts a factor 4 apart: its median is their geometric mean
    assert "| sora_params | mixture(0.5 x lognormal(median=5e+09, sigma=0.5) + 0.5 x " \
           "lognormal(median=2e+10, sigma=0.5)) | 10B |" in result.stdout
    assert "| dit_training_flops | lognormal(median=1e+21, sigma=0.1357) | 1.00e21 | 8.00e20 " \
           "to 1.25e21 |" in result.stdout
    assert "| diffusion_steps | metalog(0.1: 30, 0.5: 50, 0.9: 250, lower=1) | 50 |" \
        in result.stdout
    # a fit through the stated quantiles misses them by 0, not by float rounding
    assert "| largest miss |  | 0 | 0.214 | 0 |" in result.stdout


def test_priors_show_json_gives_what_the_table_and_a_report_give():
    """`priors show --json`: the assumptions exactly as a report's summary.json has them (the
    committed article report), the decision and correlations the file states."""
    article = json.loads(run_cli("priors", "show", str(ARTICLE), "--json").stdout)
    committed = json.loads((ROOT / "reports" / "article" / "summary.json").read_text())
    assert article["assumptions"] == committed["assumptions"]
    assert article["priors"]["sha256"] == committed["priors"]["sha256"]
    assert article["decision"] is None and article["structure"]["correlations"] == []
    informed = json.loads(run_cli("priors", "show", "informed-2026", "--json").stdout)
    assert informed["decision"]["output"] == "fleet_gpus"
    assert {"a": "tiktok_ai_share", "b": "youtube_ai_share", "spearman": 0.5} in \
        informed["structure"]["correlations"]
    assert informed["model"]["name"] == "sora" and "fleet_gpus" in informed["model"]["outputs"]


def test_the_program_freezes_its_imports_out_of_the_collectors_sight_and_a_caller_keeps_its_own():
    # Run as the program (no argv), a command moves the objects of its imports to the garbage
    # collector's permanent generation once they are imported, and spaces its full collections
    # out; called with argv (a script, a test), it leaves the caller's collector alone.
    args = "['sobol', '--priors', 'article', '--output', 'fleet_gpus', '--n', '256']"
    code = ("import gc, sys, contextlib, io\n"
            "from uncertainty.cli import main\n"
            "before = gc.get_freeze_count(), gc.get_threshold()\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    called = main({args})\n"
            "untouched = (gc.get_freeze_count(), gc.get_threshold()) == before\n"
            f"sys.argv = ['sora-uq'] + {args}\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    program = main()\n"
            "frozen = gc.get_freeze_count() > before[0] + 10000\n"
            "spaced = gc.get_threshold() == (*before[1][:2], 100 * before[1][2])\n"
            "print(called, program, untouched, frozen, spaced)\n")
    result = run_python(code, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "0", "True", "True", "True"]


def test_a_report_imports_neither_scipy_stats_nor_seaborn(tmp_path):
    # Half a CPU-second each time, a tenth of a warm report: the Sobol design's points and the
    # bar charts' style come without them (uncertainty.sobol_sequence, report.plots). And
    # the value of information's spline (scipy.interpolate) waits for a [decision].
    code = ("import sys, contextlib, io\nfrom uncertainty.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    assert main(['report', '--priors', 'article', '--samples', '4096', '--out', "
            f"{str(tmp_path / 'report')!r}]) == 0\n"
            "heavy = sorted({'scipy.stats', 'seaborn', 'scipy.interpolate'} & set(sys.modules))\n"
            "assert not heavy, f'report imported {heavy}'\n")
    result = run_python(code, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "report" / "figures" / "tornado_fleet_gpus.svg").exists()
