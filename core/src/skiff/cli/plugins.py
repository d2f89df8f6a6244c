"""``skiff plugins``: what is installed and what each plugin registered."""

from __future__ import annotations

import json

import click


def plugin_report(include_builtins: bool) -> list[dict]:
    from skiff.plugins import get_plugin_manager, get_registries

    manager = get_plugin_manager()
    registered = {}
    try:
        registered = get_registries().by_plugin()
    except Exception as exc:  # e.g. a conflict: show it instead of failing
        registered = {"<error>": [str(exc)]}
    report = []
    for name, record in sorted(manager.records.items()):
        if record.builtin and not include_builtins:
            continue
        entry = {
            "name": name,
            "distribution": record.distribution,
            "version": record.version,
            "status": record.status,
            "registers": registered.get(name, []),
        }
        if record.error:
            entry["error"] = record.error
        if record.builtin:
            entry["builtin"] = True
        report.append(entry)
    return report


@click.command("plugins")
@click.option("--all", "show_all", is_flag=True, help="Include the plugins built into core.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def plugins(show_all, as_json):
    """List installed plugins (broken and blocked ones too) and what they register."""
    report = plugin_report(show_all)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    if not report:
        click.echo("No plugins installed. Try: pip install skiff-stores-file")
    for entry in report:
        dist = f"{entry['distribution']} {entry['version']}" if entry["distribution"] else "-"
        click.echo(f"{entry['name']}  ({dist})  [{entry['status']}]")
        if entry.get("error"):
            click.echo(f"    error: {entry['error']}")
        for item in entry["registers"]:
            click.echo(f"    {item}")
