"""gunicorn's own error answers in MLflow's JSON error shape (skiff_server.gunicorn_errors)."""

from __future__ import annotations

import json
import socket

import pytest

from skiff_server.gunicorn_errors import write_json_error


@pytest.mark.parametrize("status, reason, mesg, code", [
    (414, "URI Too Long", "Request Line is too large (9000 > 8190)", "BAD_REQUEST"),
    (431, "Request Header Fields Too Large", "Error parsing headers", "BAD_REQUEST"),
    (403, "Forbidden", "Request forbidden", "PERMISSION_DENIED"),
    (500, "Internal Server Error", "", "INTERNAL_ERROR"),
    (501, "Not Implemented", "Unsupported transfer coding: 'gzip'", "NOT_IMPLEMENTED"),
])
def test_each_status_gets_its_error_code(status, reason, mesg, code):
    ours, theirs = socket.socketpair()
    with ours, theirs:
        write_json_error(ours, status, reason, mesg)
        ours.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := theirs.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0] == f"HTTP/1.1 {status} {reason}"
    assert "Content-Type: application/json" in lines
    assert f"Content-Length: {len(body)}" in lines
    payload = json.loads(body)
    assert payload["error_code"] == code
    assert payload["message"] == (f"{reason}: {mesg}" if mesg else reason)
