"""A small image registry for the push test: the routes of the Docker Registry HTTP API v2
that ``docker push`` uses (version check, blob probe, chunked blob upload, manifest put),
kept in memory and served on 127.0.0.1 (which the engine treats as an insecure registry, so
plain HTTP is accepted). No real registry is reachable from these machines."""

from __future__ import annotations

import hashlib
import re
import threading
import uuid

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

_UPLOAD = re.compile(r"^/v2/(?P<name>.+)/blobs/uploads/(?P<upload>[^/]*)$")
_BLOB = re.compile(r"^/v2/(?P<name>.+)/blobs/(?P<digest>sha256:[0-9a-f]{64})$")
_MANIFEST = re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<ref>[^/]+)$")


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class ImageRegistry:
    def __init__(self):
        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[tuple[str, str], tuple[str, bytes]] = {}  # (name, ref)
        self._uploads: dict[str, bytearray] = {}
        self._server = make_server("127.0.0.1", 0, self, threaded=True)
        self.host = f"127.0.0.1:{self._server.server_port}"

    def __enter__(self):
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()

    @Request.application
    def __call__(self, request: Request) -> Response:
        headers = {"Docker-Distribution-API-Version": "registry/2.0"}
        path, method = request.path, request.method
        if path in ("/v2/", "/v2"):
            return Response("{}", 200, headers, content_type="application/json")
        if match := _UPLOAD.match(path):
            return self._upload(request, match["name"], match["upload"], headers)
        if (match := _BLOB.match(path)) and method in ("HEAD", "GET"):
            blob = self.blobs.get(match["digest"])
            if blob is None:
                return Response("", 404, headers)
            headers["Docker-Content-Digest"] = match["digest"]
            return Response(blob if method == "GET" else b"", 200, headers,
                            content_type="application/octet-stream")
        if match := _MANIFEST.match(path):
            key = (match["name"], match["ref"])
            if method == "PUT":
                body = request.get_data()
                digest = _digest(body)
                stored = (request.content_type or "", body)
                self.manifests[key] = self.manifests[(match["name"], digest)] = stored
                headers.update({"Docker-Content-Digest": digest,
                                "Location": f"/v2/{match['name']}/manifests/{digest}"})
                return Response("", 201, headers)
            if key in self.manifests:
                content_type, body = self.manifests[key]
                headers["Docker-Content-Digest"] = _digest(body)
                return Response(body if method == "GET" else b"", 200, headers,
                                content_type=content_type)
            return Response("", 404, headers)
        return Response("", 404, headers)

    def _upload(self, request, name, upload, headers):
        if request.method == "POST":  # start (a cross-repository mount is answered the same)
            upload = uuid.uuid4().hex
            self._uploads[upload] = bytearray()
        elif upload not in self._uploads:
            return Response("", 404, headers)
        data = self._uploads[upload]
        data += request.get_data()
        location = f"/v2/{name}/blobs/uploads/{upload}"
        digest = request.args.get("digest")
        if request.method == "PUT" or (request.method == "POST" and digest):
            if _digest(bytes(data)) != digest:
                return Response('{"errors":[{"code":"DIGEST_INVALID"}]}', 400, headers)
            self.blobs[digest] = bytes(self._uploads.pop(upload))
            headers.update({"Docker-Content-Digest": digest,
                            "Location": f"/v2/{name}/blobs/{digest}"})
            return Response("", 201, headers)
        headers.update({"Location": location, "Docker-Upload-UUID": upload,
                        "Range": f"0-{max(len(data) - 1, 0)}"})
        return Response("", 202, headers)
