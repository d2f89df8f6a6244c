"""``skiff model-versions``: list model versions and show one with its lineage (run,
source, logged model), or where its files are."""

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
    print_version,
    print_versions_table,
)


@click.group("model-versions")
def model_versions():
    """Browse model versions (the registry URI, else the tracking URI)."""


@model_versions.command("list")
@click.option("--name", "-n", default=None, help="Only this registered model's versions.")
@filter_option
@max_results_option(100)
@order_by_option
@page_token_option
@json_option
def list_versions(name, filter_string, max_results, order_by, page_token, as_json):
    """List model versions (newest change first unless --order-by says otherwise)."""
    clauses = [c for c in (name_filter(name) if name is not None else None, filter_string)
               if c and c.strip()]
    page = client().search_model_versions(" AND ".join(clauses) or None, max_results,
                                          list(order_by) or None, page_token)
    if as_json:
        out = {"model_versions": [mv.to_dict() for mv in page]}
        if page.token:
            out["next_page_token"] = page.token
        echo_json(out)
        return
    print_versions_table(page)
    next_page_hint(page.token)


_name = click.option("--name", "-n", required=True, help="The registered model.")
_version = click.option("--version", "-v", default=None, help="The version number.")
_alias = click.option("--alias", "-a", default=None, help="An alias (instead of --version).")


def _get(name: str, version: str | None, alias: str | None):
    if (version is None) == (alias is None):
        raise click.ClickException("Give exactly one of --version and --alias.")
    c = client()
    if alias is not None:
        return c.get_model_version_by_alias(name, alias)
    return c.get_model_version(name, version)


@model_versions.command("get")
@_name
@_version
@_alias
@json_option
def get_version(name, version, alias, as_json):
    """Show a model version: stage, status, aliases, tags and its run and source."""
    mv = _get(name, version, alias)
    if as_json:
        echo_json({"model_version": mv.to_dict()})
        return
    print_version(mv)


@model_versions.command("download-uri")
@_name
@_version
@_alias
@json_option
def download_uri(name, version, alias, as_json):
    """Print where a model version's files are stored."""
    if alias is not None or version is None:
        version = _get(name, version, alias).version
    uri = client().get_model_version_download_uri(name, version)
    if as_json:
        echo_json({"artifact_uri": uri})
        return
    click.echo(uri)
