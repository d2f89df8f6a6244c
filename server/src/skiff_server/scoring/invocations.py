"""``/invocations``: request body -> model input -> predictions -> response body, with
MLflow's error codes. Free of Flask so that it can be timed and tested on its own."""

from __future__ import annotations

import json
import logging
import traceback

from skiff.errors import SkiffException
from skiff.pyfunc.scoring_io import (
    CONTENT_TYPE_JSON,
    encode_predictions,
    parse_content_type,
    parse_invocation_payload,
    parse_json_payload,
)
from skiff_server.scoring.fast_input import SplitShortcut
from skiff_server.scoring.timeouts import RequestTimeout, Watchdog

_logger = logging.getLogger(__name__)

TIMEOUT_MESSAGE = "Request processing time exceeded limit"
MODEL_ERROR_MESSAGE = (
    "Encountered an unexpected error while evaluating the model. Verify that the input is "
    "compatible with the model for inference.")


def _error(exc: SkiffException, with_trace: bool = False) -> tuple[int, str]:
    if with_trace and "stack_trace" not in exc.extra:
        exc.extra["stack_trace"] = traceback.format_exc()
    return exc.http_status, exc.serialize_as_json()


class Invoker:
    """Scores request bodies with one loaded model (a :class:`skiff.pyfunc.PyFuncModel`)."""

    def __init__(self, model, timeout: float | None = None):
        self.model = model
        self.input_schema = model.metadata.get_input_schema()
        self.shortcut = SplitShortcut(self.input_schema)
        self.watchdog = Watchdog(timeout) if timeout and timeout > 0 else None

    def parse(self, body: bytes, content_type: str | None):
        """(model input, params); JSON is decoded once, whichever path reads it."""
        if parse_content_type(content_type) != CONTENT_TYPE_JSON:
            return parse_invocation_payload(body, content_type, self.input_schema)
        try:
            payload = json.loads(body)
        except ValueError:  # let the shared parser word the error
            return parse_invocation_payload(body, content_type, self.input_schema)
        parsed = self.shortcut.parse(payload)
        return parsed if parsed is not None else parse_json_payload(payload, self.input_schema)

    def invoke(self, body: bytes, content_type: str | None) -> tuple[int, str]:
        """(HTTP status, JSON body)."""
        try:
            data, params = self.parse(body, content_type)
        except SkiffException as exc:
            return _error(exc)
        except Exception as exc:  # noqa: BLE001 - a malformed body is the client's error
            return _error(SkiffException(f"Failed to parse the request: {exc}",
                                         "BAD_REQUEST"), with_trace=True)
        watchdog = self.watchdog
        thread_id = watchdog.enter() if watchdog is not None else None
        try:
            predictions = self.model.predict(data, params=params)
            if watchdog is not None:
                watchdog.leave(thread_id)
        except RequestTimeout:
            watchdog.leave(thread_id)
            _logger.error("A request ran past the %ss limit", watchdog.timeout)
            return _error(SkiffException(TIMEOUT_MESSAGE, "DEADLINE_EXCEEDED"))
        except SkiffException as exc:
            if watchdog is not None:
                watchdog.leave(thread_id)
            return _error(exc)
        except Exception as exc:  # noqa: BLE001 - the model's own failure, reported as MLflow does
            if watchdog is not None:
                watchdog.leave(thread_id)
            return _error(SkiffException(f"{MODEL_ERROR_MESSAGE} Error: {exc!r}",
                                         "BAD_REQUEST"), with_trace=True)
        try:
            return 200, encode_predictions(predictions)
        except Exception as exc:  # noqa: BLE001
            return _error(SkiffException(
                f"The model's output ({type(predictions).__name__}) cannot be written as "
                f"JSON: {exc}", "INTERNAL_ERROR"), with_trace=True)
