"""Runs table: paging, sorting, the filter box, the column chooser, nesting, selection, CSV."""

import csv
import io

from playwright.sync_api import expect


def _names(page):
    return page.locator("#runs-table tbody td.name a").all_inner_texts()


def test_paging_and_sorting(page, server):
    demo = server.seed["demo"]
    page.goto(server.url(f"/experiments/{demo}?size=25"))
    expect(page.locator("#runs-table tbody tr")).to_have_count(25)
    first_page = _names(page)
    page.click("a[rel=next]")
    expect(page.locator(".pager .range")).to_have_text("26–32")
    assert not set(_names(page)) & set(first_page)
    page.click("a[rel=prev]")
    assert _names(page) == first_page

    page.click("#runs-table th a:has-text('Run')")
    names = _names(page)
    assert names == sorted(names, reverse=True)
    page.click("#runs-table th a:has-text('Run')")
    names = _names(page)
    assert names == sorted(names)
    page.click("#runs-table th.metrics a:has-text('acc')")
    expect(page.locator("#runs-table th[aria-sort]")).to_contain_text("acc")
    page.click("#runs-table th a:has-text('Duration')")
    expect(page.locator("#runs-table th[aria-sort]")).to_contain_text("Duration")
    expect(page.locator("#runs-table tbody tr")).to_have_count(25)


def test_filter_and_inline_error(page, server):
    demo = server.seed["demo"]
    page.goto(server.url(f"/experiments/{demo}"))
    page.fill("#filter", "params.model = 'tree' and metrics.acc > 0.6")
    page.click("form.filter button[type=submit]")
    rows = page.locator("#runs-table tbody tr")
    expect(rows).to_have_count(10)
    page.fill("#filter", "metrics.acc >>> 1")
    page.click("form.filter button[type=submit]")
    expect(page.locator("[role=alert]")).to_be_visible()
    expect(page.locator("#runs-table")).to_contain_text("not valid")


def test_column_chooser_is_lazy(page, server):
    demo = server.seed["demo"]
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(server.url(f"/experiments/{demo}?cols=1"))
    expect(page.locator("#runs-table th.data-col")).to_have_count(0)
    assert not any("/_ui/api/columns" in u for u in requests)
    page.click("#column-chooser summary")
    page.fill("#column-chooser .key-search", "tea")
    expect(page.locator("#column-chooser .key-results")).to_contain_text("1 key from")
    box = page.locator("#column-chooser .key-results input[value='tags.team']")
    expect(box).to_be_visible()
    box.check()
    page.click("#column-chooser button[type=submit]")
    expect(page.locator("#runs-table th.data-col")).to_have_count(1)
    expect(page.locator("#runs-table th.data-col")).to_contain_text("team")
    expect(page.locator("#runs-table tbody")).to_contain_text("blue")


def test_nesting_and_fixed_columns(page, server):
    demo = server.seed["demo"]
    page.goto(server.url(f"/experiments/{demo}?filter=tags.mlflow.parentRunId+%3D+'"
                         f"{server.seed['parent']}'"))
    expect(page.locator("#runs-table tbody tr.child")).to_have_count(2)
    expect(page.locator("#runs-table tbody")).to_contain_text("tester")
    expect(page.locator("#runs-table tbody")).to_contain_text("train.py")
    expect(page.locator("#runs-table tbody")).to_contain_text("FINISHED")


def test_select_compare_and_delete(page, server):
    demo = server.seed["demo"]
    page.goto(server.url(f"/experiments/{demo}"))
    page.click("#compare-selected")
    expect(page.locator("#selection-error")).to_contain_text("Select at least one run")
    boxes = page.locator("#runs-table tbody input[name=run]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.click("#compare-selected")
    expect(page.locator("h1")).to_contain_text("Compare 2 runs")

    page.goto(server.url(f"/experiments/{demo}?filter=attributes.run_name+%3D+'demo-00'"))
    page.locator("#runs-table tbody input[name=run]").first.check()
    page.click("#delete-selected")
    expect(page.locator("#runs-table")).to_contain_text("No runs")
    page.goto(server.url(f"/experiments/{demo}?view=deleted"))
    expect(page.locator("#runs-table")).to_contain_text("demo-00")
    page.locator("#runs-table tbody tr:has-text('demo-00') input[name=run]").check()
    page.click("#restore-selected")
    page.goto(server.url(f"/experiments/{demo}?filter=attributes.run_name+%3D+'demo-00'"))
    expect(page.locator("#runs-table tbody tr")).to_have_count(1)


def test_several_experiments(page, server):
    page.goto(server.url("/"))
    page.check(f"#experiments input[value='{server.seed['demo']}']")
    page.check(f"#experiments input[value='{server.seed['other']}']")
    page.click("#open-selected")
    expect(page.locator("#runs-table thead")).to_contain_text("Experiment")
    page.fill("#filter", "params.lr = '0.5'")
    page.click("form.filter button[type=submit]")
    expect(page.locator("#runs-table tbody")).to_contain_text("ui-other")


def test_csv_download(page, server):
    demo = server.seed["demo"]
    page.goto(server.url(f"/experiments/{demo}?filter=params.model+%3D+'tree'"))
    with page.expect_download() as info:
        page.click("#download-csv")
    with open(info.value.path(), encoding="utf-8") as f:
        rows = list(csv.DictReader(io.StringIO(f.read())))
    assert len(rows) == 15
    assert {r["params.model"] for r in rows} == {"tree"}
    assert "metrics.acc" in rows[0]
