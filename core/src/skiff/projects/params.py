"""Parameter values for an entry point: defaults, required checks, types, and ``path``
parameters that name remote artifacts (downloaded so the project gets a local file)."""

from __future__ import annotations

import os
import tempfile
import urllib.parse

import attrs

from skiff.errors import SkiffException
from skiff.projects.spec import EntryPoint


@attrs.define
class ResolvedParameters:
    values: dict[str, str]  # declared parameters, substituted into the command
    extra: dict[str, str]  # undeclared ones, appended as --key value
    logged: dict[str, str]  # what the run records (path params keep the value given)

    def command(self, entry_point: EntryPoint) -> str:
        return entry_point.format_command(self.values, self.extra)


def _scheme(value: str) -> str:
    scheme = urllib.parse.urlparse(value).scheme
    return "" if len(scheme) == 1 else scheme  # C:\path is a path


def _local_path(value: str, project_dir: str | None) -> str | None:
    """An existing local path: relative to the working directory, else to the project."""
    for base in (os.getcwd(), project_dir):
        if base is not None and os.path.exists(os.path.join(base, value)):
            return os.path.abspath(os.path.join(base, value))
    return None


def check_parameters(entry_point: EntryPoint, given: dict | None,
                     project_dir: str | None = None) -> ResolvedParameters:
    """Validate without touching anything: raises one INVALID_PARAMETER_VALUE line naming
    every missing required parameter, or the first value of the wrong type."""
    given = {str(k): ("" if v is None else str(v)) for k, v in (given or {}).items()}
    missing = [p.name for p in entry_point.parameters.values()
               if p.required and p.name not in given]
    if missing:
        names = ", ".join(repr(n) for n in missing)
        raise SkiffException.invalid_parameter_value(
            f"No value given for required parameter(s) {names} of entry point "
            f"{entry_point.name!r}; pass them with -P NAME=VALUE")
    values: dict[str, str] = {}
    for param in entry_point.parameters.values():
        raw = given[param.name] if param.name in given else param.default
        value = _format_default(raw) if param.name not in given else raw
        _check_type(entry_point.name, param.name, param.type, value, project_dir)
        values[param.name] = value
    extra = {k: v for k, v in given.items() if k not in entry_point.parameters}
    return ResolvedParameters(values, extra, {**values, **extra})


def _format_default(value) -> str:
    if isinstance(value, bool):  # YAML true/false: the command sees what the file says
        return "true" if value else "false"
    return str(value)


def _check_type(ep_name: str, name: str, ptype: str, value: str,
                project_dir: str | None) -> None:
    def bad(expected: str) -> SkiffException:
        return SkiffException.invalid_parameter_value(
            f"Parameter {name!r} of entry point {ep_name!r} must be {expected}, got {value!r}")

    if ptype == "float":
        try:
            float(value)
        except ValueError:
            raise bad("a float") from None
    elif ptype == "int":
        try:
            int(value)
        except ValueError:
            raise bad("an int") from None
    elif ptype == "uri" and not _scheme(value):
        raise bad("a URI (scheme:...)")
    elif ptype == "path" and not _scheme(value) and _local_path(value, project_dir) is None:
        raise bad("an existing path or an artifact URI; no such file or directory")


def localize_paths(entry_point: EntryPoint, resolved: ResolvedParameters,
                   storage_dir: str | None, tracking_uri: str | None = None,
                   project_dir: str | None = None) -> None:
    """Make every ``path`` value local: local paths become absolute, ``file:`` URIs become
    paths, and artifact URIs (``runs:/``, ``s3://``...) are downloaded under
    ``storage_dir``."""
    index = 0
    for param in entry_point.parameters.values():
        if param.type != "path":
            continue
        value = resolved.values[param.name]
        scheme = _scheme(value)
        if not scheme:
            resolved.values[param.name] = _local_path(value, project_dir) or value
            continue
        if scheme == "file":
            from skiff.utils.uri import local_path_from_uri

            resolved.values[param.name] = os.path.abspath(local_path_from_uri(value))
            continue
        from skiff.artifacts.download import download_artifacts

        base = storage_dir or tempfile.mkdtemp(prefix="skiff-project-params-")
        target = os.path.join(base, f"param_{index}")
        index += 1
        try:
            resolved.values[param.name] = download_artifacts(
                artifact_uri=value, dst_path=target, tracking_uri=tracking_uri)
        except SkiffException as exc:
            raise SkiffException(
                f"Could not download {value!r} for parameter {param.name!r}: {exc.message}",
                exc.error_code) from None
