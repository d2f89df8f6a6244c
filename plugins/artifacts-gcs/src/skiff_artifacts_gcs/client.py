"""The google-cloud-storage client (built once per settings) and the translation of Google
errors into one-line SkiffExceptions naming what is missing and which variable sets it."""

from __future__ import annotations

import contextlib
import os

from skiff.artifacts.object_store import ClientCache
from skiff.artifacts.transfer import max_workers, requests_ca_bundle, requests_env_is_needed
from skiff.errors import SkiffException

_clients = ClientCache()


def emulator_host() -> str | None:
    return os.environ.get("STORAGE_EMULATOR_HOST") or None


def get_client():
    """A storage.Client for the current settings; its HTTP pool is sized for the thread
    pool so parallel transfers do not queue for connections."""
    key = (emulator_host(), credentials_file(),
           os.environ.get("GOOGLE_CLOUD_PROJECT"))
    return _clients.get(key, _build_client)


def credentials_file() -> str | None:
    """SKIFF_GOOGLE_APPLICATION_CREDENTIALS, else Google's own variable."""
    return (os.environ.get("SKIFF_GOOGLE_APPLICATION_CREDENTIALS")
            or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS") or None)


def _build_client(emulator, credentials_path, project):
    import requests.adapters
    from google.cloud import storage

    if emulator:
        from google.auth.credentials import AnonymousCredentials

        client = storage.Client(project=project or "skiff",
                                credentials=AnonymousCredentials())
    else:
        with gcs_errors("(client)"):
            credentials = None
            if credentials_path:
                import google.auth

                if not os.path.isfile(credentials_path):
                    raise SkiffException(
                        f"GOOGLE_APPLICATION_CREDENTIALS names a missing file: "
                        f"{credentials_path}", "PERMISSION_DENIED")
                credentials, found_project = google.auth.load_credentials_from_file(
                    credentials_path,
                    scopes=["https://www.googleapis.com/auth/devstorage.read_write"])
                project = project or found_project
            client = storage.Client(project=project, credentials=credentials)
    size = max(max_workers() * 2, 10)
    adapter = requests.adapters.HTTPAdapter(pool_connections=size, pool_maxsize=size)
    session = client._http
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    if not requests_env_is_needed():
        session.trust_env = False  # no per-request scan of os.environ
        session.verify = requests_ca_bundle() or session.verify
    return client


def retry_policy():
    """Google's retry (exponential backoff on 429/5xx/connection errors), bounded by
    ``SKIFF_GCS_RETRY_TIMEOUT`` seconds (default 120)."""
    from google.cloud.storage.retry import DEFAULT_RETRY

    from skiff.env import get_env_int

    return DEFAULT_RETRY.with_timeout(float(get_env_int("GCS_RETRY_TIMEOUT", 120)))


def _endpoint() -> str:
    host = emulator_host()
    return f"the GCS emulator at {host} (STORAGE_EMULATOR_HOST)" if host else (
        "storage.googleapis.com")


@contextlib.contextmanager
def gcs_errors(bucket: str, key: str | None = None):
    """Turn google-auth / api-core / transport errors into one-line SkiffExceptions."""
    import google.auth.exceptions as auth_errors
    import requests
    from google.api_core import exceptions as api

    try:
        yield
    except SkiffException:
        raise
    except auth_errors.DefaultCredentialsError:
        raise SkiffException(
            f"No Google Cloud credentials found for gs://{bucket}: set "
            f"GOOGLE_APPLICATION_CREDENTIALS to a service-account key file (or run "
            f"'gcloud auth application-default login')", "PERMISSION_DENIED") from None
    except api.RetryError as exc:
        cause = exc.cause
        if isinstance(cause, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
            raise _unreachable(cause) from None
        raise SkiffException(f"GCS error on gs://{bucket}/{key or ''}: {exc.message}",
                             "INTERNAL_ERROR") from None
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise _unreachable(exc) from None
    except api.NotFound:
        if key is None or not bucket_exists(bucket):
            raise missing_bucket(bucket) from None
        raise SkiffException(f"No such artifact: gs://{bucket}/{key}",
                             "RESOURCE_DOES_NOT_EXIST") from None
    except (api.Forbidden, api.Unauthorized, auth_errors.RefreshError) as exc:
        raise SkiffException(
            f"GCS refused access to gs://{bucket} ({type(exc).__name__}): check the "
            f"account in GOOGLE_APPLICATION_CREDENTIALS", "PERMISSION_DENIED") from None
    except api.GoogleAPICallError as exc:
        raise SkiffException(f"GCS error on gs://{bucket}/{key or ''}: {exc.message}",
                             "INTERNAL_ERROR") from None


def _unreachable(exc) -> SkiffException:
    return SkiffException(
        f"Cannot reach {_endpoint()}: {type(exc).__name__}; check STORAGE_EMULATOR_HOST "
        f"or the network", "TEMPORARILY_UNAVAILABLE")


def bucket_exists(bucket: str) -> bool:
    try:
        return get_client().bucket(bucket).exists()
    except Exception:  # only used to word an error
        return True


def missing_bucket(bucket: str) -> SkiffException:
    return SkiffException(
        f"GCS bucket {bucket!r} does not exist at {_endpoint()}: create it or fix the "
        f"artifact URI", "RESOURCE_DOES_NOT_EXIST")


def is_retryable(exc: BaseException) -> bool:
    import requests
    from google.api_core import exceptions as api

    return isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                            api.TooManyRequests, api.InternalServerError,
                            api.ServiceUnavailable, api.BadGateway, api.GatewayTimeout,
                            ConnectionError, TimeoutError))
