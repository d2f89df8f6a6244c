"""Metric charts (overlay, x axis, smoothing, log scale, zoom) and the compare page."""

import re
import time

from playwright.sync_api import expect


def _rendered(page, index=0):
    figure = page.locator("figure.chart").nth(index)
    expect(figure).to_have_attribute("data-rendered", re.compile(r"^\d+$"))
    return int(figure.get_attribute("data-rendered"))


def test_chart_overlay_and_controls(page, server):
    a, b = server.seed["parent"], server.seed["runs"][-2]
    page.goto(server.url(f"/charts?run={a}&run={b}&key=loss"))
    points = _rendered(page)
    assert 0 < points <= 2 * 1000  # the point budget holds for 2,000-step histories
    expect(page.locator("figure.chart canvas")).to_have_count(1)
    expect(page.locator("ul.legend")).to_contain_text("demo-29")

    page.select_option(".chart-points", "200")
    deadline = time.time() + 5
    while int(page.locator("figure.chart").get_attribute("data-rendered")) > 2 * 200 + 2:  # +1 duplicate step each
        assert time.time() < deadline, "the smaller point budget was not applied"
        time.sleep(0.05)
    for mode in ("time", "relative", "step"):
        page.select_option(".chart-x", mode)
        _rendered(page)
    page.check(".chart-log")
    page.fill(".chart-smooth", "0.8")
    page.dispatch_event(".chart-smooth", "input")
    _rendered(page)

    box = page.locator(".chart-canvas .u-over").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + 20, steps=5)
    page.mouse.up()
    expect(page.locator(".chart-status")).to_contain_text("zoomed")
    page.click(".chart-reset")
    expect(page.locator(".chart-status")).not_to_contain_text("zoomed")


def test_chart_from_run_page(page, server):
    page.goto(server.url(f"/runs/{server.seed['parent']}"))
    page.click("#metrics a:has-text('chart')")
    _rendered(page)


def test_compare_across_experiments(page, server):
    runs = [server.seed["runs"][0], server.seed["runs"][1], server.seed["other_runs"][0]]
    page.goto(server.url("/compare?" + "&".join(f"run={r}" for r in runs)))
    table = page.locator("#compare-table")
    expect(table).to_contain_text("ui-demo")
    expect(table).to_contain_text("ui-other")
    expect(page.locator("#compare-table tr.differs:has-text('lr')")).to_have_count(1)
    page.check("input[name=diff]")
    expect(page.locator("#compare-table tr.same")).to_have_count(0)
    expect(page.locator("svg.parallel polyline")).to_have_count(3)
    expect(page.locator("svg.scatter circle")).to_have_count(3)
    page.select_option("select[name=sx]", "metrics.loss")
    page.select_option("select[name=sy]", "metrics.acc")
    page.click("#scatter button")
    expect(page.locator("svg.scatter")).to_have_attribute(
        "aria-label", "scatter of metrics.acc against metrics.loss")
    _rendered(page)
