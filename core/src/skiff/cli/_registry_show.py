"""How ``skiff registered-models`` and ``skiff model-versions`` print registry entities:
aligned tables and ``Field: value`` blocks for people, MLflow's REST response shapes
(``{"registered_models": [...], "next_page_token": ...}``) with ``--json``."""

from __future__ import annotations

import json

import click

from skiff.cli._options import format_ms, print_table

json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print JSON (MLflow's REST response shape) instead of a table.")
filter_option = click.option("--filter", "filter_string", default=None, metavar="FILTER",
                             help="A search filter, e.g. \"name LIKE 'fraud%'\" or "
                                  "\"tags.team = 'risk'\".")
order_by_option = click.option("--order-by", multiple=True, metavar="KEY [ASC|DESC]",
                               help="Sort key, e.g. 'last_updated_timestamp DESC' "
                                    "(repeat for more keys).")
page_token_option = click.option("--page-token", default=None,
                                 help="Continue a listing where the previous page ended.")


def max_results_option(default: int):
    return click.option("--max-results", type=click.IntRange(min=1), default=default,
                        show_default=True, help="At most this many per page.")


def name_filter(name: str) -> str:
    """A filter matching exactly one model name (quotes doubled, SQL style)."""
    return "name = '{}'".format(name.replace("'", "''"))


def echo_json(value) -> None:
    click.echo(json.dumps(value, indent=2))


def next_page_hint(token: str | None) -> None:
    if token:
        click.echo(f"More results: repeat with --page-token {token}", err=True)


def _tags(tags: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(tags.items()))


def _aliases(model) -> str:
    return ", ".join(f"{alias}={version}" for alias, version in sorted(model.aliases.items()))


def _latest_version(model) -> str:
    numbers = [int(mv.version) for mv in model.latest_versions]
    return str(max(numbers)) if numbers else ""


def print_models_table(models) -> None:
    print_table(["Name", "Latest Version", "Aliases", "Tags", "Last Updated"],
                [[m.name, _latest_version(m), _aliases(m), _tags(m.tags),
                  format_ms(m.last_updated_timestamp)] for m in models])


def _version_rows(versions, with_name: bool) -> list[list]:
    rows = []
    for mv in versions:
        row = [mv.version, mv.current_stage, mv.status, ", ".join(mv.aliases), mv.run_id,
               format_ms(mv.creation_timestamp), mv.source]
        rows.append([mv.name, *row] if with_name else row)
    return rows


_VERSION_HEADERS = ["Version", "Stage", "Status", "Aliases", "Run ID", "Created", "Source"]


def print_versions_table(versions, indent: str = "", with_name: bool = True) -> None:
    headers = ["Name", *_VERSION_HEADERS] if with_name else _VERSION_HEADERS
    print_table(headers, _version_rows(versions, with_name), indent)


def _fields(pairs: list[tuple[str, object]]) -> None:
    width = max(len(label) for label, _ in pairs) + 2
    for label, value in pairs:
        text = "" if value is None else str(value)
        click.echo(f"{label + ':':{width}}{text}".rstrip())


def _tag_lines(tags: dict) -> None:
    click.echo("Tags:")
    width = max((len(k) for k in tags), default=0)
    for key, value in sorted(tags.items()):
        click.echo(f"  {key:{width}}  {value}")


def print_model(model, versions) -> None:
    """A registered model with its latest version per stage and every version."""
    _fields([
        ("Name", model.name),
        ("Description", model.description),
        ("Created", format_ms(model.creation_timestamp)),
        ("Last updated", format_ms(model.last_updated_timestamp)),
        ("Aliases", ", ".join(f"{a} -> {v}" for a, v in sorted(model.aliases.items()))),
    ])
    _tag_lines(model.tags)
    click.echo("Latest version per stage:")
    if model.latest_versions:
        print_table(["Stage", "Version", "Run ID", "Source"],
                    [[mv.current_stage, mv.version, mv.run_id, mv.source]
                     for mv in model.latest_versions], indent="  ")
    click.echo(f"Versions ({len(versions)}):")
    if versions:
        print_versions_table(versions, indent="  ", with_name=False)


def print_version(mv) -> None:
    """One model version and where it came from (its run, source and logged model)."""
    _fields([
        ("Name", mv.name),
        ("Version", mv.version),
        ("Stage", mv.current_stage),
        ("Status", mv.status + (f" ({mv.status_message})" if mv.status_message else "")),
        ("Aliases", ", ".join(mv.aliases)),
        ("Description", mv.description),
        ("Created", format_ms(mv.creation_timestamp)),
        ("Last updated", format_ms(mv.last_updated_timestamp)),
        ("User", mv.user_id),
        ("Run ID", mv.run_id),
        ("Run link", mv.run_link),
        ("Source", mv.source),
        ("Model ID", mv.model_id),
    ])
    _tag_lines(mv.tags)
