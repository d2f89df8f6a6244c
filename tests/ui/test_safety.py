"""Bad input shows a clear message (never a blank page), user text is always escaped, the
registry pages work, and the UI runs under --static-prefix with no outside request."""

import re
from urllib.parse import quote

import pytest
from conftest import DIST, _stop, start_server
from playwright.sync_api import expect


def _no_xss(page):
    assert page.evaluate("window.__xss") is None, f"script payload ran on {page.url}"
    assert page.locator("img[src=x]").count() == 0


def test_script_payloads_are_inert(page, server):
    seed = server.seed
    run_id, payload = seed["xss_run"], seed["payload"]
    pages = [
        "/", f"/experiments/{seed['xss_experiment']}",
        f"/experiments/{seed['xss_experiment']}?cols=1&c=params.p&c=tags.t&c=metrics.m",
        f"/runs/{run_id}", f"/runs/{run_id}/artifacts",
        f"/runs/{run_id}/artifacts?path=x.txt", f"/runs/{run_id}/artifacts?path=x.json",
        f"/runs/{run_id}/artifacts?path=x.csv", f"/runs/{run_id}/artifacts?path=x.html",
        f"/runs/{run_id}/artifacts?path=MLmodel",
        f"/compare?run={run_id}&run={seed['runs'][0]}", f"/charts?run={run_id}",
        "/models", f"/models/{quote(seed['xss_model'], safe='')}",
        f"/models/{quote(seed['xss_model'], safe='')}/versions/1",
        f"/?error={quote(payload)}",
    ]
    for path in pages:
        page.goto(server.url(path))
        expect(page.locator("main")).not_to_be_empty()
        _no_xss(page)
    page.goto(server.url(f"/runs/{run_id}"))
    expect(page.locator("#description .description")).to_contain_text("<script>")
    expect(page.locator("#params")).to_contain_text("onerror")


@pytest.mark.parametrize("path, status, text", [
    ("/runs/0123456789abcdef0123456789abcdef", 404, "not found"),
    ("/experiments/987654321", 404, "987654321"),
    ("/runs/{parent}/artifacts?path=no/such.file", 404, "No artifact at 'no/such.file'"),
    ("/charts", 400, "Select one or more runs"),
    ("/runs", 400, "Choose one or more experiments"),
    ("/models/no-such-model", 404, "no-such-model"),
])
def test_bad_input_shows_a_message(probe, server, path, status, text):
    probe.expected_statuses.add(status)
    response = probe.page.goto(server.url(path.format(parent=server.seed["parent"])))
    assert response.status == status
    expect(probe.page.locator("[role=alert]").first).to_contain_text(text, ignore_case=True)


def test_deleted_run_says_so(page, server):
    page.goto(server.url(f"/runs/{server.seed['deleted']}"))
    expect(page.locator(".deleted-run")).to_contain_text("This run is deleted")


def test_wrong_filter_inline(page, server):
    page.goto(server.url(f"/experiments/{server.seed['demo']}?filter=foo+bar"))
    expect(page.locator("div.error[role=alert]")).to_be_visible()
    expect(page.locator("#filter")).to_have_value("foo bar")


def test_registry_pages(page, server):
    page.goto(server.url("/models"))
    expect(page.locator("#models")).to_contain_text("ui-model")
    page.fill("input[name=q]", "ui-mo")
    page.click("form.search button")
    expect(page.locator("#models tbody tr")).to_have_count(1)
    page.click("#models a:has-text('ui-model')")
    expect(page.locator("#versions tbody tr")).to_have_count(2)
    expect(page.locator("#versions")).to_contain_text("Production")
    expect(page.locator("#versions")).to_contain_text("@champion")
    expect(page.locator("dl.facts")).to_contain_text("owner=ml")
    page.click("#versions a:has-text('v2')")
    expect(page.locator("#version-source")).to_contain_text("runs:/")
    page.click("#version-run")
    expect(page.locator("#run-name")).to_contain_text("demo-29")


def test_bundle_is_small():
    assert DIST.stat().st_size < 300 * 1024


@pytest.fixture
def prefixed(seeded, browser):
    workdir, store, seed = seeded
    # A registry URI no plugin serves: the registry pages must say so.
    base, proc = start_server(workdir, store, prefix="/skiff", registry_uri="noregistry://x")
    yield base, seed
    _stop(proc)


def test_static_prefix_offline_and_no_registry(browser, prefixed):
    from conftest import PageProbe

    base, seed = prefixed
    context = browser.new_context()
    page = context.new_page()
    probe = PageProbe(page, base.rsplit("/skiff", 1)[0])
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(base + "/")
        page.click("#experiments a:has-text('ui-demo')")
        expect(page.locator("#runs-table tbody tr").first).to_be_visible()
        page.locator("#runs-table tbody td.name a").first.click()
        page.click("#metrics a:has-text('chart')")
        expect(page.locator("figure.chart")).to_have_attribute("data-rendered", re.compile(r"^[1-9]\d*$"))
        probe.expected_statuses.add(501)
        page.click("header nav a:has-text('Models')")
        expect(page.locator("#registry-unavailable")).to_contain_text("No model registry")
        assert all(u.startswith(base + "/") for u in requests), requests
        probe.check()
    finally:
        context.close()
