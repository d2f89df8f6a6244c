"""Run page: overview, params, metrics with sparklines, editable tags and description,
inputs, and the artifact browser with previews and downloads."""

import zipfile

from playwright.sync_api import expect


def test_overview_params_metrics_inputs(page, server):
    run_id = server.seed["parent"]
    page.goto(server.url(f"/runs/{run_id}"))
    expect(page.locator("#run-name")).to_contain_text("demo-29")
    expect(page.locator("#overview")).to_contain_text(run_id)
    expect(page.locator("#overview")).to_contain_text("tester")
    expect(page.locator("#params")).to_contain_text("lr")
    expect(page.locator("#metrics")).to_contain_text("loss")
    expect(page.locator("#metrics svg.sparkline polyline")).to_have_count(1)
    expect(page.locator("#inputs")).to_contain_text("train-set")
    page.click("#overview a:has-text('child runs')")
    expect(page.locator("#runs-table tbody tr.child")).to_have_count(2)


def test_edit_tags_description_and_name(page, server):
    run_id = server.seed["runs"][3]
    page.goto(server.url(f"/runs/{run_id}"))
    page.fill("#add-tag input[name=key]", "reviewed")
    page.fill("#add-tag input[name=value]", "yes")
    page.click("#add-tag button")
    expect(page.locator("#tags")).to_contain_text("reviewed")
    page.locator("#tags tr:has-text('reviewed') button:has-text('Remove')").click()
    expect(page.locator("#tags")).not_to_contain_text("reviewed")

    page.click("#description summary")
    page.fill("#description textarea", "A note\nwith two lines")
    page.click("#description button[type=submit]")
    expect(page.locator("#description .description")).to_contain_text("with two lines")

    page.click("#overview details summary:has-text('Rename')")
    page.fill("#overview input[name=name]", "renamed-run")
    page.click("#overview details button:has-text('Save')")
    expect(page.locator("#run-name")).to_contain_text("renamed-run")


def test_artifact_previews(page, server):
    run_id = server.seed["parent"]
    page.goto(server.url(f"/runs/{run_id}"))
    page.click("#artifacts a:has-text('cfg')")
    page.click("a:has-text('features.json')")
    expect(page.locator("pre.text-preview")).to_contain_text('"features": [')
    page.goto(server.url(f"/runs/{run_id}/artifacts?path=data.csv"))
    expect(page.locator("table.csv thead")).to_contain_text("col_a")
    expect(page.locator("table.csv tbody tr")).to_have_count(2)
    page.goto(server.url(f"/runs/{run_id}/artifacts?path=model/MLmodel"))
    expect(page.locator("pre.text-preview")).to_contain_text("python_function")
    page.goto(server.url(f"/runs/{run_id}/artifacts?path=model/conda.yaml"))
    expect(page.locator("pre.text-preview")).to_contain_text("dependencies")
    page.goto(server.url(f"/runs/{run_id}/artifacts?path=notes.txt"))
    expect(page.locator("pre.text-preview")).to_contain_text("second line")
    page.goto(server.url(f"/runs/{run_id}/artifacts?path=plot.png"))
    image = page.locator("img.artifact-image")
    expect(image).to_be_visible()
    assert page.evaluate("document.querySelector('img.artifact-image').naturalWidth") == 8


def test_downloads(page, server):
    run_id = server.seed["parent"]
    page.goto(server.url(f"/runs/{run_id}/artifacts?path=notes.txt"))
    with page.expect_download() as info:
        page.click("#preview a:has-text('Download')")
    assert open(info.value.path(), encoding="utf-8").read().startswith("plain notes")
    page.goto(server.url(f"/runs/{run_id}/artifacts?path=model"))
    with page.expect_download() as info:
        page.click("a:has-text('Download model as zip')")
    assert sorted(zipfile.ZipFile(info.value.path()).namelist()) == ["MLmodel", "conda.yaml"]
