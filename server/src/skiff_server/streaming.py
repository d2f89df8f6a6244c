"""Bytes in and out of the server without holding a whole file in memory."""

from __future__ import annotations

import mimetypes
import posixpath

from flask import Response, request, stream_with_context

from skiff.errors import SkiffException

CHUNK = 1024 * 1024


def request_chunks():
    """The request body in chunks. A body shorter than its declared Content-Length (the
    client went away) raises, so the repository discards what it had written."""
    expected = request.content_length
    stream = request.stream
    received = 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        received += len(chunk)
        yield chunk
    if expected is not None and received != expected:
        raise SkiffException(
            f"The upload ended after {received} of {expected} bytes; nothing was stored.",
            "INVALID_PARAMETER_VALUE")


def download_response(repo, path: str) -> Response:
    """The file at ``path`` as an attachment, streamed, with its Content-Length."""
    chunks = repo.open_read(path)
    size = repo.file_size(path)
    name = posixpath.basename(path)
    mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if mimetype.startswith("text/") or name.endswith((".yaml", ".yml", ".json", ".MLmodel")):
        # Text files are served as plain text, never as HTML a browser would run.
        mimetype = "text/plain" if mimetype != "application/json" else mimetype
    if name == "MLmodel":
        mimetype = "text/plain"
    response = Response(stream_with_context(chunks), mimetype=mimetype, direct_passthrough=True)
    if size is not None:
        response.headers["Content-Length"] = str(size)
    safe = name.replace('"', "").replace("\\", "")
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    return response
