"""The UI's pages and JSON endpoints through Flask's test client (no browser needed)."""

import csv
import io
import json

import pytest


@pytest.fixture
def client(seeded):
    from skiff_server.app import create_app

    workdir, store, seed = seeded
    app = create_app({"backend_store_uri": f"file://{store}",
                      "artifacts_destination": str(workdir / "mlartifacts")})
    client = app.test_client()
    client.environ_base["HTTP_HOST"] = "localhost"
    client.seed = seed
    return client


def test_pages_answer_with_html_and_a_csp(client):
    seed = client.seed
    for path in ["/", f"/experiments/{seed['demo']}", f"/runs/{seed['parent']}",
                 f"/runs/{seed['parent']}/artifacts?path=data.csv",
                 f"/compare?run={seed['runs'][0]}&run={seed['runs'][1]}",
                 f"/charts?run={seed['parent']}"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == "text/html"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert b"<script>window.__xss" not in response.data


def test_series_respects_the_point_budget(client):
    seed = client.seed
    body = json.loads(client.get(
        f"/_ui/api/series?run={seed['parent']}&run={seed['runs'][-2]}&key=loss&points=50").data)
    assert [len(set(s["steps"])) for s in body["series"]] == [50, 50]
    zoomed = json.loads(client.get(
        f"/_ui/api/series?run={seed['parent']}&key=loss&points=10&start=100&end=200").data)
    steps = zoomed["series"][0]["steps"]
    assert steps[0] == 100 and steps[-1] == 200 and len(steps) == 10
    bad = client.get(f"/_ui/api/series?run={seed['parent']}&key=loss&points=x")
    assert bad.status_code == 400 and bad.json["error_code"] == "INVALID_PARAMETER_VALUE"


def test_columns_api_filters_keys(client):
    body = client.get(f"/_ui/api/columns?e={client.seed['demo']}&q=LO").json
    assert body["metrics"] == ["loss"] and body["params"] == [] and body["sampled_runs"] > 0


def test_csv_keeps_formulas_inert(client):
    seed = client.seed
    text = client.get(f"/runs.csv?e={seed['xss_experiment']}&cols=1&c=params.p").data.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["params.p"] == seed["payload"]
    from skiff_server.ui.views_runs import _csv_value

    assert _csv_value("=HYPERLINK(1)") == "'=HYPERLINK(1)" and _csv_value("-1.5") == "-1.5"


def test_redirects_stay_on_site(client):
    run_id = client.seed["runs"][5]
    response = client.post(f"/runs/{run_id}/tags", data={
        "key": "k", "value": "v", "next": "//evil.example/x"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/runs/{run_id}")


def test_wide_runs_load_only_the_shown_columns(tmp_path, monkeypatch):
    # runs with 3,000 params each: the table must not load them all for a page
    from skiff.entities import Metric, Param
    from skiff_server.app import create_app
    from skiff_stores_sql.store import SqlTrackingStore

    uri = f"sqlite:///{tmp_path / 'wide.db'}"
    store = SqlTrackingStore(uri, str(tmp_path / "artifacts"))
    exp_id = store.create_experiment("wide")
    for i in range(3):
        run_id = store.create_run(exp_id, "u", 1000 + i, [], f"wide-{i}").info.run_id
        for batch in range(30):
            store.log_batch(run_id, [Metric("loss", i / 10, 1, 0)] if batch == 0 else [],
                            [Param(f"p{batch * 100 + k:04d}", str(k)) for k in range(100)], [])
    app = create_app({"backend_store_uri": uri,
                      "artifacts_destination": str(tmp_path / "mlartifacts")})
    client = app.test_client()
    client.environ_base["HTTP_HOST"] = "localhost"
    loaded = []
    from skiff_stores_sql._run_loading import RunPage

    original = RunPage.finish

    def counting(page, conn, count=None):
        runs = original(page, conn, count)
        loaded.append(sum(len(r.data.params) for r in runs))
        return runs

    monkeypatch.setattr(RunPage, "finish", counting)
    page = client.get(f"/experiments/{exp_id}?cols=1&c=params.p1234&c=metrics.loss")
    assert page.status_code == 200
    assert b"wide-2" in page.data and b">34<" in page.data  # p1234 = "34"
    assert loaded == [3]  # one param per run, not 9,000
    loaded.clear()
    page = client.get(f"/experiments/{exp_id}")  # default columns: from a sample, then keyed
    assert page.status_code == 200 and b"wide-0" in page.data
    assert loaded[-1] <= 3 * 6  # the page holds only the default columns' params


def test_form_errors_come_back_in_a_short_redirect(client):
    # a refused value may be quoted in the error; the redirect carrying it stays small, and
    # a "next" target too long for a Location header is replaced by the page's own address
    # (only refused changes here: the seeded store is shared with the browser tests)
    run = client.seed["parent"]
    huge = "x" * 70000
    headers = {"Origin": "http://localhost"}
    for form in ({"key": huge, "value": "v"},
                 {"key": huge, "value": "v", "next": "/" + huge}):
        response = client.post(f"/runs/{run}/tags", data=form, headers=headers)
        assert response.status_code == 303
        location = response.headers["Location"]
        assert len(location) < 3000 and "error=" in location
        assert location.startswith(f"/runs/{run}")
