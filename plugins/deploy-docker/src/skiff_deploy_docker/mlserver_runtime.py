"""An MLServer inference runtime that serves a Skiff (MLflow-format) model through
``skiff.pyfunc``. It is copied into MLServer images as the module ``skiff_mlserver`` and named
by ``MLSERVER_MODEL_IMPLEMENTATION=skiff_mlserver.SkiffRuntime``; nothing here imports the
rest of this plugin, and it runs only inside such an image (it needs ``mlserver``).

V2 requests (``/v2/models/<name>/infer``) are decoded the way the scoring protocol's
``inputs`` field is: a request-level or per-input ``content_type`` wins (MLServer's codecs,
e.g. ``pd`` for a DataFrame); otherwise a model with a column signature gets a DataFrame, a
single input its array, several inputs a dict of arrays. Extra request ``parameters`` are the
model's params. The scoring protocol itself (``/invocations``, ``/ping``) is served too, so
tools made for Skiff's or MLflow's images keep working.
"""

from __future__ import annotations

from typing import Any

from fastapi import Body, Header
from fastapi.responses import JSONResponse
from mlserver import MLModel
from mlserver.codecs import NumpyCodec, PandasCodec, StringCodec
from mlserver.errors import InferenceError
from mlserver.handlers import custom_handler
from mlserver.types import InferenceRequest, InferenceResponse, ResponseOutput
from mlserver.utils import get_model_uri

# Keys MLServer itself keeps in a request's parameters; the rest are the model's params.
_SERVER_PARAMETERS = {"content_type", "headers"}
OUTPUT_NAME = "predictions"


def _is_column_schema(schema) -> bool:
    return schema is not None and len(schema) > 0 and not schema.is_tensor_spec()


class SkiffRuntime(MLModel):
    async def load(self) -> bool:
        import skiff.pyfunc

        self._model = skiff.pyfunc.load_model(await get_model_uri(self._settings))
        self._input_schema = self._model.metadata.get_input_schema()
        return True

    # --- V2 inference protocol -----------------------------------------------------------

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        from skiff.errors import SkiffException

        data = self._decode(payload)
        try:
            predictions = self._model.predict(data, params=self._params(payload))
        except SkiffException as exc:
            raise InferenceError(exc.message) from None
        return self._encode(predictions, payload)

    def _decode(self, payload: InferenceRequest):
        decoded = self.decode_request(payload)  # honours any content_type it carries
        if decoded is not payload:
            return decoded
        if _is_column_schema(self._input_schema):
            return PandasCodec.decode_request(payload)
        values = {item.name: self.decode(item, default_codec=NumpyCodec)
                  for item in payload.inputs}
        return next(iter(values.values())) if len(values) == 1 else values

    @staticmethod
    def _params(payload: InferenceRequest) -> dict | None:
        if payload.parameters is None:
            return None
        extra = {k: v for k, v in (payload.parameters.model_extra or {}).items()
                 if k not in _SERVER_PARAMETERS and not k.startswith("_")}
        return extra or None

    def _encode(self, predictions, payload: InferenceRequest) -> InferenceResponse:
        import pandas as pd

        if isinstance(predictions, pd.DataFrame):
            outputs = PandasCodec.encode_outputs(predictions)
        elif isinstance(predictions, dict):
            outputs = [_encode_output(str(k), v) for k, v in predictions.items()]
        else:
            outputs = [_encode_output(OUTPUT_NAME, predictions)]
        return InferenceResponse(model_name=self.name, model_version=self.version,
                                 id=payload.id, outputs=outputs)

    # --- the scoring protocol (/ping, /invocations) ---------------------------------------
    # Arguments and results cross to MLServer's worker processes, so they stay picklable:
    # FastAPI hands over the parsed JSON (or the raw bytes of CSV and Parquet bodies).

    @custom_handler(rest_path="/ping", rest_method="GET")
    async def ping(self) -> str:
        return "\n"

    @custom_handler(rest_path="/invocations")
    async def invocations(self, body: Any = Body(None),
                          content_type: str | None = Header(None)) -> Any:
        from skiff.errors import SkiffException
        from skiff.pyfunc import scoring_io

        try:
            if isinstance(body, (bytes, bytearray, str)) or body is None:
                data, params = scoring_io.parse_invocation_payload(
                    body or b"", content_type, self._input_schema)
            else:
                scoring_io.parse_content_type(content_type)
                data, params = scoring_io.parse_json_payload(body, self._input_schema)
            predictions = self._model.predict(data, params=params)
        except SkiffException as exc:
            return JSONResponse(exc.to_dict(), status_code=exc.http_status)
        except Exception as exc:  # noqa: BLE001 - the model's own failure, as MLflow answers
            return JSONResponse({"error_code": "BAD_REQUEST", "message": (
                f"Encountered an unexpected error while evaluating the model: {exc!r}")},
                status_code=400)
        return {"predictions": scoring_io.predictions_to_jsonable(predictions)}


def _encode_output(name: str, value) -> ResponseOutput:
    """One V2 output: text as BYTES, anything else as a numpy tensor."""
    import numpy as np
    import pandas as pd

    if isinstance(value, (pd.Series, pd.Index)):
        value = value.to_numpy()
    array = value if isinstance(value, np.ndarray) else np.asarray(value)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.dtype.kind in "OUS":
        return StringCodec.encode_output(name, [str(v) for v in array.ravel().tolist()])
    return NumpyCodec.encode_output(name, array)
