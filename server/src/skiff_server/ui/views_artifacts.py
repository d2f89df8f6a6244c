"""The artifact browser of a run: directory listings, previews (text, JSON, YAML, MLmodel,
images, CSV) and downloads of a file or a whole directory (zip)."""

from __future__ import annotations

import csv
import io
import json
import posixpath
import tempfile
import zipfile

from flask import Response, request, url_for

from skiff.errors import SkiffException
from skiff.validation import validate_relative_path
from skiff_server.artifact_access import repository_for
from skiff_server.ui.blueprint import page, tracking_store

PREVIEW_BYTES = 512 * 1024
CSV_ROWS = 200
IMAGE_EXT = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".bmp", ".ico")
CSV_EXT = (".csv", ".tsv")
TEXT_EXT = (".txt", ".log", ".json", ".yaml", ".yml", ".md", ".py", ".ini", ".cfg", ".toml",
            ".sh", ".html", ".xml", ".rst", ".r", ".sql", ".jsonl", ".properties", ".conf")
TEXT_NAMES = ("MLmodel", "MLproject", "conda.yaml", "requirements.txt", "python_env.yaml",
              "Dockerfile", "LICENSE", "README")


def add_routes(bp) -> None:
    bp.add_url_rule("/runs/<run_id>/artifacts", "artifacts", artifacts)
    bp.add_url_rule("/runs/<run_id>/artifacts.zip", "artifacts_zip", artifacts_zip)


def _find(repo, path: str):
    """The FileInfo at ``path`` (None for the root), or raise a clear 404."""
    if not path:
        return None
    parent = posixpath.dirname(path)
    for info in repo.list_artifacts(parent or None):
        if info.path.rstrip("/") == path:
            return info
    raise SkiffException(f"No artifact at '{path}' in this run.", "RESOURCE_DOES_NOT_EXIST")


def listing(repo, path: str):
    items = sorted(repo.list_artifacts(path or None), key=lambda f: (not f.is_dir, f.path))
    return [{"path": f.path, "name": posixpath.basename(f.path.rstrip("/")), "is_dir": f.is_dir,
             "size": f.file_size} for f in items]


def artifacts(run_id):
    run = tracking_store().get_run(run_id)
    repo = repository_for(run.info.artifact_uri)
    path = validate_relative_path(request.args.get("path") or "")
    missing = None
    try:
        target = _find(repo, path)
    except SkiffException as exc:
        missing, target = exc.message, None
    folder = path if (target is None or target.is_dir) and not missing else posixpath.dirname(
        path)
    try:
        entries = listing(repo, folder)
    except SkiffException as exc:
        entries, missing = [], missing or exc.message
    preview = _preview(repo, target) if target is not None and not target.is_dir else None
    crumbs = []
    parts = [p for p in folder.split("/") if p]
    for i, part in enumerate(parts):
        crumbs.append((part, "/".join(parts[: i + 1])))
    return page("artifacts.html", status=404 if missing else 200, title=f"Artifacts · {run_id}",
                run=run, path=path, folder=folder, entries=entries, preview=preview,
                crumbs=crumbs, missing=missing, target=target)


def _read_head(repo, path: str, limit: int = PREVIEW_BYTES) -> tuple[bytes, bool]:
    data = bytearray()
    for chunk in repo.open_read(path):
        data += chunk
        if len(data) > limit:
            return bytes(data[:limit]), True
    return bytes(data), False


def _kind(name: str) -> str:
    lower = name.lower()
    if lower.endswith(IMAGE_EXT):
        return "image"
    if lower.endswith(CSV_EXT):
        return "csv"
    if lower.endswith(".json"):
        return "json"
    if lower.endswith(TEXT_EXT) or name in TEXT_NAMES or "." not in name:
        return "text"
    return "other"


def _preview(repo, info) -> dict:
    name = posixpath.basename(info.path)
    kind = _kind(name)
    out = {"kind": kind, "name": name, "path": info.path, "size": info.file_size,
           "download": url_for("misc_ajax.get_artifact", run_id=request.view_args["run_id"],
                               path=info.path)}
    if kind == "image":
        return out
    data, truncated = _read_head(repo, info.path)
    out["truncated"] = truncated
    if b"\x00" in data[:8192]:
        out["kind"] = "binary"
        return out
    text = data.decode("utf-8", errors="replace")
    if kind == "other":
        out["kind"] = "text"
    if kind == "json" and not truncated:
        try:
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            pass
    if kind == "csv":
        delimiter = "\t" if name.lower().endswith(".tsv") else ","
        rows = []
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            rows.append(row)
            if len(rows) > CSV_ROWS:
                break
        out["header"] = rows[0] if rows else []
        out["rows"] = rows[1:CSV_ROWS + 1]
        out["more_rows"] = truncated or len(rows) > CSV_ROWS
        return out
    out["text"] = text
    return out


def _walk(repo, path: str):
    for info in repo.list_artifacts(path or None):
        if info.is_dir:
            yield from _walk(repo, info.path)
        else:
            yield info.path


def artifacts_zip(run_id):
    run = tracking_store().get_run(run_id)
    repo = repository_for(run.info.artifact_uri)
    path = validate_relative_path(request.args.get("path") or "")
    if path:
        target = _find(repo, path)
        if not target.is_dir:
            raise SkiffException.invalid_parameter_value(f"'{path}' is a file, not a directory.")
    spool = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)
    with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
        for file_path in _walk(repo, path):
            inside = file_path[len(path):].lstrip("/") if path else file_path
            with archive.open(inside, "w") as member:
                for chunk in repo.open_read(file_path):
                    member.write(chunk)
    size = spool.tell()
    spool.seek(0)

    def chunks():
        try:
            while block := spool.read(1024 * 1024):
                yield block
        finally:
            spool.close()

    base = posixpath.basename(path) or f"run-{run_id}-artifacts"
    response = Response(chunks(), mimetype="application/zip", direct_passthrough=True)
    response.headers["Content-Length"] = str(size)
    safe = base.replace('"', "").replace("\\", "")
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}.zip"'
    return response
