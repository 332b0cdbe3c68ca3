"""The explore server's JSON API: 200 and 400 answers, hostile requests, nothing written by a
summary, and a server that keeps serving."""

import json

import pytest
from conftest import write_identity_priors
from starlette.testclient import TestClient

from uncertainty.explore import Explorer
from uncertainty.explore.server import MAX_BODY_BYTES, create_app

SAMPLES = 1 << 13


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explore")
    path = write_identity_priors(folder)
    saved, reports = folder / "saved", folder / "reports"
    saved.mkdir()
    app = create_app(Explorer(path, samples=SAMPLES), saved, reports)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client, folder


def _post(client, body, path="/api/summary", **headers):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(path, content=data,
                       headers={"Content-Type": "application/json", **headers})


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_the_page_and_its_files_are_served_by_the_tool_itself(served):
    client, _ = served
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for asset in ("/static/explore.js", "/static/explore.css"):
        assert client.get(asset).status_code == 200
    assert 'src="http' not in page.text and "href=\"http" not in page.text


def test_priors_lists_every_assumption_with_its_editable_table(served):
    client, _ = served
    info = client.get("/api/priors").json()
    assert info["assumptions"]["x"]["spec"] == {"dist": "lognormal", "ci": [2.0, 8.0]}
    assert info["assumptions"]["x"]["source"] == "a test" and info["headline"] == ["y"]


def test_summary_answers_200_with_the_report_keys(served):
    client, folder = served
    before = _files(folder)
    answer = _post(client, {"assumptions": {"x": {"dist": "lognormal", "ci": [10.0, 40.0]}}})
    assert answer.status_code == 200
    y = answer.json()["outputs"]["y"]
    assert y["median"] == pytest.approx(20.0, rel=0.03)
    assert {"median", "eti_50", "eti_90", "hdi_90", "mcse_median"} <= set(y)
    assert _post(client, {"assumptions": {}}).status_code == 200
    assert _files(folder) == before  # a summary writes nothing


@pytest.mark.parametrize(("body", "headers", "expected"), [
    ("{\"assumptions\"", {}, "not valid JSON"),
    ("[" * 100_000 + "]" * 100_000, {}, "not valid JSON"),
    ({"assumption": {}}, {}, "expected {\"assumptions\""),
    ({"assumptions": [1, 2]}, {}, "must be an object"),
    ({"assumptions": {"nope": {"dist": "fixed", "value": 1}}}, {}, "unknown assumption 'nope'"),
    ({"assumptions": {"x": "lognormal"}}, {}, "x: must be a table"),
    ({"assumptions": {"x": {"dist": "lognormal", "ci": [2, "8"]}}}, {}, "'ci' must be a number"),
    ({"assumptions": {"x": {"dist": "lognormal", "ci": [8, 2]}}}, {}, "interval out of order"),
    ({"assumptions": {"x": {"dist": ["lognormal"]}}}, {}, "x: "),
    ({"assumptions": {"x": {"dist": "lognormal", "median": 1e400, "sigma": 1}}}, {}, "x: "),
    ({"assumptions": {}}, {"Content-Type": "text/plain"}, "as JSON"),
])
def test_bad_requests_answer_400_with_one_line(served, body, headers, expected):
    client, _ = served
    answer = _post(client, body, **headers)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert expected in error and "\n" not in error and "Traceback" not in error


def test_the_error_names_the_assumption_for_the_page(served):
    client, _ = served
    answer = _post(client, {"assumptions": {"x": {"dist": "lognormal", "ci": [-1, 2]}}})
    assert answer.status_code == 400 and answer.json()["assumption"] == "x"


def test_a_huge_body_is_refused_before_it_is_read(served):
    client, _ = served
    body = json.dumps({"assumptions": {"x": {"dist": "lognormal", "ci": [2, 8],
                                             "note": "n" * MAX_BODY_BYTES}}})
    answer = _post(client, body)
    assert answer.status_code == 400 and "over" in answer.json()["error"]


def test_only_the_servers_own_host_names_are_answered(served):
    client, _ = served
    assert client.get("/api/priors", headers={"Host": "attacker.example"}).status_code == 400


def test_the_server_survives_200_rapid_requests(served):
    client, _ = served
    medians = []
    for i in range(200):
        if i % 10 == 9:  # hostile ones in between
            assert _post(client, "{oops").status_code == 400
            continue
        high = 8.0 + (i % 7)
        answer = _post(client, {"assumptions": {"x": {"dist": "lognormal", "ci": [2.0, high]}}})
        assert answer.status_code == 200
        medians.append((high, answer.json()["outputs"]["y"]["median"]))
    for high, median in medians:  # each answer is its own request's: median sqrt(2 * high)
        assert median == pytest.approx((2.0 * high) ** 0.5, rel=0.03)
    assert client.get("/api/priors").status_code == 200


def test_save_writes_a_new_prior_file_each_time(served):
    client, folder = served
    body = {"assumptions": {"x": {"dist": "lognormal", "ci": [3.0, 9.0]}}}
    first, second = _post(client, body, "/api/save"), _post(client, body, "/api/save")
    assert first.status_code == second.status_code == 200
    assert first.json()["path"] != second.json()["path"]
    bad = _post(client, {"assumptions": {"x": {"dist": "lognormal", "ci": [9, 3]}}}, "/api/save")
    assert bad.status_code == 400
    assert len(list((folder / "saved").glob("tiny-explored-*.toml"))) == 2


def test_open_report_writes_the_full_report_for_the_changed_priors(served):
    client, folder = served
    answer = _post(client, {"assumptions": {"x": {"dist": "lognormal", "ci": [10.0, 40.0]}}},
                   "/api/report")
    assert answer.status_code == 200, answer.text
    facts = answer.json()
    summary = json.loads((folder / "reports" / facts["report"].split("/")[-1]
                          / "summary.json").read_text())
    assert summary["outputs"]["y"]["median"] == pytest.approx(20.0, rel=0.02)
    page = client.get(facts["url"])
    assert page.status_code == 200 and "<html" in page.text
    assert client.get("/reports/99").status_code == 404
