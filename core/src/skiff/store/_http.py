"""HTTP plumbing shared by the REST store and the artifact-proxy repositories: one keep-alive
``requests.Session`` per (host, credentials), retries with backoff, auth, TLS options, and
MLflow's error mapping.

Settings (SKIFF_ first, then the MLFLOW_ twin):
``TRACKING_USERNAME``/``TRACKING_PASSWORD`` (basic auth), ``TRACKING_TOKEN`` (bearer, used
only without a username), ``TRACKING_INSECURE_TLS``, ``TRACKING_SERVER_CERT_PATH``,
``TRACKING_CLIENT_CERT_PATH``, ``HTTP_REQUEST_MAX_RETRIES`` (7),
``HTTP_REQUEST_BACKOFF_FACTOR`` (2), ``HTTP_REQUEST_BACKOFF_JITTER`` (1.0),
``HTTP_REQUEST_TIMEOUT`` (120 s), ``HTTP_RESPECT_RETRY_AFTER_HEADER`` (true).
Extra headers come from the ``request_headers(uri)`` hook.
"""

from __future__ import annotations

import json
import threading
from urllib.parse import urlsplit

from skiff.env import get_env, get_env_bool
from skiff.errors import CODE_BY_HTTP_STATUS, RestException, SkiffException

RETRY_STATUSES = (408, 429, 500, 502, 503, 504)

_sessions: dict[tuple, object] = {}
_sessions_lock = threading.Lock()


class HttpSettings:
    """Everything about how to talk to one server, read from the environment once."""

    def __init__(self, base_uri: str):
        self.base_uri = base_uri.rstrip("/")
        self.username = get_env("TRACKING_USERNAME")
        self.password = get_env("TRACKING_PASSWORD")
        self.token = get_env("TRACKING_TOKEN")
        self.insecure = get_env_bool("TRACKING_INSECURE_TLS")
        self.server_cert = get_env("TRACKING_SERVER_CERT_PATH")
        self.client_cert = get_env("TRACKING_CLIENT_CERT_PATH")
        if self.insecure and self.server_cert:
            raise SkiffException.invalid_parameter_value(
                "TRACKING_INSECURE_TLS and TRACKING_SERVER_CERT_PATH cannot both be set: one "
                "turns certificate checks off, the other says which CA to check against")
        self.max_retries = int(get_env("HTTP_REQUEST_MAX_RETRIES") or 7)
        self.backoff_factor = float(get_env("HTTP_REQUEST_BACKOFF_FACTOR") or 2)
        self.backoff_jitter = float(get_env("HTTP_REQUEST_BACKOFF_JITTER") or 1.0)
        self.timeout = float(get_env("HTTP_REQUEST_TIMEOUT") or 120)
        self.respect_retry_after = get_env_bool("HTTP_RESPECT_RETRY_AFTER_HEADER", True)
        self.headers = _plugin_headers(base_uri)

    @property
    def verify(self):
        if self.insecure:
            return False
        return self.server_cert or True

    def _key(self) -> tuple:
        parts = urlsplit(self.base_uri)
        return (parts.scheme, parts.netloc, self.username, self.password, self.token,
                self.insecure, self.server_cert, self.client_cert, self.max_retries,
                self.backoff_factor, self.backoff_jitter, self.respect_retry_after,
                tuple(sorted(self.headers.items())))

    def session(self):
        """The shared keep-alive session for these settings (built once)."""
        key = self._key()
        session = _sessions.get(key)
        if session is None:
            with _sessions_lock:
                session = _sessions.get(key)
                if session is None:
                    session = self._build_session()
                    _sessions[key] = session
        return session

    def _build_session(self):
        import requests
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        kwargs = dict(
            total=self.max_retries, connect=self.max_retries, read=self.max_retries,
            status=self.max_retries, backoff_factor=self.backoff_factor,
            status_forcelist=RETRY_STATUSES, allowed_methods=None,
            respect_retry_after_header=self.respect_retry_after, raise_on_status=False,
        )
        try:
            retry = Retry(backoff_jitter=self.backoff_jitter, **kwargs)
        except TypeError:  # urllib3 < 2 has no jitter
            retry = Retry(**kwargs)
        adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=32)
        session = requests.Session()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        if self.username is not None and self.password is not None:
            session.auth = (self.username, self.password)
        elif self.token:
            session.headers["Authorization"] = f"Bearer {self.token}"
        session.headers["User-Agent"] = _user_agent()
        session.headers.update(self.headers)
        session.verify = self.verify
        if self.client_cert:
            session.cert = self.client_cert
        return session


def _user_agent() -> str:
    from skiff.version import VERSION

    return f"skiff-python-client/{VERSION}"


def _plugin_headers(uri: str) -> dict[str, str]:
    """Headers from every ``request_headers`` hook; one header from several plugins has its
    values joined by a space."""
    from skiff.plugins import get_plugin_manager

    merged: dict[str, str] = {}
    for result in get_plugin_manager().hook.request_headers(uri=uri):
        for name, value in (result or {}).items():
            merged[name] = f"{merged[name]} {value}" if name in merged else str(value)
    return merged


def _query_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return [_query_value(v) for v in value]
    return value


def request(settings: HttpSettings, method: str, url: str, *, json_body=None, params=None,
            data=None, headers=None, stream: bool = False, timeout: float | None = None):
    """One HTTP call with the shared session; connection failures become SkiffException."""
    import requests

    if params:
        params = {k: _query_value(v) for k, v in params.items() if v is not None}
    body = None
    send_headers = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body, allow_nan=True)
        send_headers.setdefault("Content-Type", "application/json")
    elif data is not None:
        body = data
    try:
        return settings.session().request(
            method, url, params=params, data=body, headers=send_headers, stream=stream,
            timeout=timeout or settings.timeout)
    except requests.exceptions.RetryError as exc:
        raise SkiffException(
            f"API request to {url} failed after {settings.max_retries} retries: {exc}",
            "TEMPORARILY_UNAVAILABLE") from exc
    except requests.exceptions.RequestException as exc:
        raise SkiffException(f"API request to {url} failed: {exc}",
                             "TEMPORARILY_UNAVAILABLE") from exc


def check_response(response, endpoint: str):
    """Raise MLflow's error for a non-2xx answer; return the response otherwise."""
    if 200 <= response.status_code < 300:
        return response
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "error_code" in body:
        raise RestException(body)
    code = CODE_BY_HTTP_STATUS.get(response.status_code, "INTERNAL_ERROR")
    text = response.text[:1000] if not getattr(response, "_skiff_streamed", False) else ""
    raise SkiffException(
        f"API request to endpoint {endpoint} failed with error code {response.status_code} "
        f"!= 200. Response body: '{text}'", code)


def call_json(settings: HttpSettings, method: str, endpoint: str, body: dict | None = None):
    """Call ``<base>/<endpoint>``: GET sends ``body`` as a query string, every other method
    as JSON. Returns the decoded JSON answer ({} when empty)."""
    url = settings.base_uri + endpoint
    if method == "GET":
        response = request(settings, method, url, params=body)
    else:
        response = request(settings, method, url, json_body=body or {})
    check_response(response, endpoint)
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        raise SkiffException(
            f"API request to endpoint {endpoint} answered with a body that is not JSON: "
            f"{response.text[:200]!r}", "INTERNAL_ERROR") from None
