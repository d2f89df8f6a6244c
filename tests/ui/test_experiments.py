"""Experiments page: list, search, create, rename, delete, restore."""

from playwright.sync_api import expect


def test_list_and_search(page, server):
    page.goto(server.url("/"))
    expect(page.locator("#experiments")).to_contain_text("ui-demo")
    expect(page.locator("#experiments")).to_contain_text("ui-other")
    page.fill("input[name=q]", "other")
    page.click("form.search button[type=submit]")
    expect(page.locator("#experiments")).to_contain_text("ui-other")
    expect(page.locator("#experiments")).not_to_contain_text("ui-demo")
    page.fill("input[name=q]", "name = 'ui-demo'")
    page.click("form.search button[type=submit]")
    expect(page.locator("#experiments tbody tr")).to_have_count(1)


def test_bad_experiment_filter_shows_error(page, server):
    page.goto(server.url("/?q=name+%3D%3D%3D+'x'"))
    expect(page.locator(".error")).to_be_visible()


def test_create_rename_delete_restore(page, server):
    page.goto(server.url("/"))
    page.click("details.create summary")
    page.fill("details.create input[name=name]", "made-in-browser")
    page.click("#create-experiment")
    expect(page.locator("h1")).to_have_text("made-in-browser")
    expect(page.locator("#runs-table")).to_contain_text("No runs")

    page.goto(server.url("/?q=made-in-browser"))
    row = page.locator("#experiments tbody tr").first
    row.locator("details.inline summary").click()
    row.locator("input[aria-label='New name']").fill("renamed-in-browser")
    row.locator(".rename-box button").click()
    expect(page.locator("#experiments")).not_to_contain_text("made-in-browser")

    page.goto(server.url("/?q=renamed-in-browser"))
    page.locator("#experiments tbody tr").first.locator("button.danger").click()
    expect(page.locator("#experiments")).not_to_contain_text("renamed-in-browser")

    page.goto(server.url("/?q=renamed-in-browser&view=deleted"))
    expect(page.locator("#experiments")).to_contain_text("deleted")
    page.locator("#experiments tbody tr").first.get_by_role("button", name="Restore").click()
    page.goto(server.url("/?q=renamed-in-browser"))
    expect(page.locator("#experiments")).to_contain_text("renamed-in-browser")


def test_duplicate_name_shows_error(page, server):
    page.goto(server.url("/"))
    page.click("details.create summary")
    page.fill("details.create input[name=name]", "ui-demo")
    page.click("#create-experiment")
    expect(page.locator(".error")).to_contain_text("ui-demo")
