"""gunicorn answers some requests itself, before the app sees them: a request line past its
limit, a malformed request line or header. Its page is HTML; clients (MLflow's among them)
read ``error_code`` and ``message`` from every answer, so Skiff's servers give it in
MLflow's JSON error shape like the app's own errors."""

from __future__ import annotations

from skiff.errors import BAD_REQUEST, CODE_BY_HTTP_STATUS, SkiffException


def write_json_error(sock, status_int, reason, mesg) -> None:
    """``gunicorn.util.write_error`` with a JSON body; the error code is the one clients
    read back from the status (414 and 431 have none of their own: BAD_REQUEST)."""
    from gunicorn.util import write_nonblock

    code = CODE_BY_HTTP_STATUS.get(int(status_int), BAD_REQUEST)
    body = SkiffException(f"{reason}: {mesg}" if mesg else reason, code) \
        .serialize_as_json().encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    write_nonblock(sock, head.encode("latin-1") + body)


def use_json_error_pages() -> None:
    """gunicorn has no setting for its error page; its workers look ``util.write_error`` up
    on each error, so it is replaced in this process (one that runs only a Skiff server)."""
    from gunicorn import util

    util.write_error = write_json_error
