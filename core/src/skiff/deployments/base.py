"""The client every deployment target implements (MLflow's ``BaseDeploymentClient``)."""

from __future__ import annotations

import abc
import json

from skiff.errors import NOT_IMPLEMENTED, SkiffException


def _not_implemented(target_uri: str, method: str) -> SkiffException:
    return SkiffException(
        f"Target {target_uri!r} does not support {method}(): this deployment plugin does not "
        "implement it", NOT_IMPLEMENTED)


class BaseDeploymentClient(abc.ABC):
    """One deployment target. ``target_uri`` is what the user passed (``sagemaker:/us-east-1``).

    Subclasses implement the abstract methods; the endpoint methods and ``explain`` are
    optional and raise NOT_IMPLEMENTED until a target overrides them.
    """

    def __init__(self, target_uri: str):
        self.target_uri = target_uri

    @abc.abstractmethod
    def create_deployment(self, name, model_uri, flavor=None, config=None, endpoint=None):
        """Deploy ``model_uri`` as ``name``; returns a dict with at least ``name``, ``flavor``."""

    @abc.abstractmethod
    def update_deployment(self, name, model_uri=None, flavor=None, config=None, endpoint=None):
        """Change an existing deployment (new model and/or config); returns a dict."""

    @abc.abstractmethod
    def delete_deployment(self, name, config=None, endpoint=None):
        """Remove a deployment; deleting one that does not exist is not an error."""

    @abc.abstractmethod
    def list_deployments(self, endpoint=None):
        """A list of dicts, each with at least ``name``."""

    @abc.abstractmethod
    def get_deployment(self, name, endpoint=None):
        """A dict describing one deployment."""

    @abc.abstractmethod
    def predict(self, deployment_name=None, inputs=None, endpoint=None):
        """Score ``inputs``; returns a :class:`PredictionsResponse`."""

    def predict_stream(self, deployment_name=None, inputs=None, endpoint=None):
        raise _not_implemented(self.target_uri, "predict_stream")

    def explain(self, deployment_name=None, df=None, endpoint=None):
        raise _not_implemented(self.target_uri, "explain")

    def create_endpoint(self, name, config=None):
        raise _not_implemented(self.target_uri, "create_endpoint")

    def update_endpoint(self, endpoint, config=None):
        raise _not_implemented(self.target_uri, "update_endpoint")

    def delete_endpoint(self, endpoint):
        raise _not_implemented(self.target_uri, "delete_endpoint")

    def list_endpoints(self):
        raise _not_implemented(self.target_uri, "list_endpoints")

    def get_endpoint(self, endpoint):
        raise _not_implemented(self.target_uri, "get_endpoint")


class PredictionsResponse(dict):
    """A scoring response (``{"predictions": ...}``), with MLflow's accessors."""

    def get_predictions(self, predictions_format: str = "dataframe", dtype=None):
        """The predictions as a pandas DataFrame (``dataframe``) or numpy array (``ndarray``)."""
        predictions = self["predictions"] if "predictions" in self else dict(self)
        if predictions_format == "dataframe":
            import pandas as pd

            if isinstance(predictions, dict):
                return pd.DataFrame(predictions).astype(dtype) if dtype else pd.DataFrame(
                    predictions)
            frame = pd.DataFrame(data=predictions)
            return frame.astype(dtype) if dtype else frame
        if predictions_format == "ndarray":
            import numpy as np

            return np.array(predictions, dtype)
        raise SkiffException.invalid_parameter_value(
            f"Unsupported predictions_format {predictions_format!r}: use 'dataframe' or "
            "'ndarray'")

    def to_json(self, path: str | None = None) -> str:
        text = json.dumps(self)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return text

    @classmethod
    def from_json(cls, json_str: str) -> PredictionsResponse:
        try:
            parsed = json.loads(json_str)
        except ValueError:
            raise SkiffException.invalid_parameter_value(
                f"Prediction response is not JSON: {json_str[:200]!r}") from None
        if not isinstance(parsed, dict) or "predictions" not in parsed:
            raise SkiffException.invalid_parameter_value(
                "Prediction response has no 'predictions' key")
        return cls(parsed)


_PAYLOAD_KEYS = {"dataframe_split", "dataframe_records", "instances", "inputs"}


def scoring_payload(inputs) -> str:
    """The JSON body of an ``/invocations`` request for ``inputs`` (MLflow's scoring
    protocol): a DataFrame as ``dataframe_split``, a ready payload as is, else ``inputs``."""
    if hasattr(inputs, "to_json") and hasattr(inputs, "columns"):  # pandas DataFrame
        return json.dumps({"dataframe_split": json.loads(inputs.to_json(orient="split"))})
    if hasattr(inputs, "tolist"):  # numpy
        return json.dumps({"inputs": inputs.tolist()})
    if isinstance(inputs, dict) and inputs.keys() & _PAYLOAD_KEYS:
        return json.dumps(inputs)
    if isinstance(inputs, str):
        return inputs
    return json.dumps({"inputs": inputs})
