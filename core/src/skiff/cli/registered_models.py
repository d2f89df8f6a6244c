"""``skiff registered-models``: list and show registered models (MLflow has no registry
CLI; the options follow ``MlflowClient.search_registered_models``)."""

from __future__ import annotations

import click

from skiff.cli._options import client
from skiff.cli._registry_show import (
    echo_json,
    filter_option,
    json_option,
    max_results_option,
    name_filter,
    next_page_hint,
    order_by_option,
    page_token_option,
    print_model,
    print_models_table,
)

_VERSIONS_PAGE = 1000


@click.group("registered-models")
def registered_models():
    """Browse the model registry (the registry URI, else the tracking URI)."""


@registered_models.command("list")
@filter_option
@max_results_option(100)
@order_by_option
@page_token_option
@json_option
def list_models(filter_string, max_results, order_by, page_token, as_json):
    """List registered models with their latest version, aliases and tags."""
    page = client().search_registered_models(filter_string, max_results, list(order_by) or None,
                                             page_token)
    if as_json:
        out = {"registered_models": [m.to_dict() for m in page]}
        if page.token:
            out["next_page_token"] = page.token
        echo_json(out)
        return
    print_models_table(page)
    next_page_hint(page.token)


def all_versions(c, name: str) -> list:
    """Every version of ``name``, newest number first."""
    found, token = [], None
    while True:
        page = c.search_model_versions(name_filter(name), _VERSIONS_PAGE, None, token)
        found.extend(mv for mv in page if mv.name == name)
        token = page.token
        if not token:
            break
    return sorted(found, key=lambda mv: -int(mv.version))


@registered_models.command("get")
@click.option("--name", "-n", required=True, help="The registered model.")
@json_option
def get_model(name, as_json):
    """Show a registered model: aliases, tags, latest version per stage, every version."""
    c = client()
    model = c.get_registered_model(name)
    versions = all_versions(c, name)
    if as_json:
        echo_json({"registered_model": model.to_dict(),
                   "model_versions": [mv.to_dict() for mv in versions]})
        return
    print_model(model, versions)
