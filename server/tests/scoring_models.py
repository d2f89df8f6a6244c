"""Small custom models for the scoring-server tests (core and skiff-server only)."""

from __future__ import annotations

import time

from skiff.pyfunc import PythonModel


class Linear(PythonModel):
    """2a + b, times the ``scale`` param."""

    def predict(self, context, model_input, params=None):
        scale = (params or {}).get("scale", 1.0)
        return (model_input["a"] * 2 + model_input["b"]) * scale


class Numbered(PythonModel):
    """2 * column 0 + column 1, by the number labels."""

    def predict(self, context, model_input, params=None):
        return model_input[0] * 2 + model_input[1]


class RowSums(PythonModel):
    """Sums each row of a tensor."""

    def predict(self, context, model_input, params=None):
        return model_input.sum(axis=1)


class Failing(PythonModel):
    def predict(self, context, model_input, params=None):
        raise ValueError("the model broke")


class Busy(PythonModel):
    """Runs (in small steps, so that a timeout can interrupt it) for 5 seconds."""

    def predict(self, context, model_input, params=None):
        end = time.monotonic() + 5
        while time.monotonic() < end:
            time.sleep(0.005)
        return [0] * len(model_input)


def save(path, python_model, kind="columns"):
    import numpy as np
    import pandas as pd

    from skiff.models import infer_signature
    from skiff.pyfunc import save_model

    if kind == "tensor":
        example = np.array([[1.0, 2.0], [3.0, 4.0]])
        signature = infer_signature(example, example.sum(axis=1))
    else:
        example = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
        signature = infer_signature(example, pd.Series([5.0, 8.0]), params={"scale": 1.0})
    save_model(str(path), python_model=python_model, signature=signature)
    return str(path)
