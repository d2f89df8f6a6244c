"""Input examples as MLflow stores them: ``input_example.json`` (the example itself) and
``serving_input_example.json`` (a ready-to-POST scoring payload), described in MLmodel under
``saved_input_example_info``."""

from __future__ import annotations

import json
import os

from skiff.errors import SkiffException
from skiff.models._jsonable import dumps

EXAMPLE_FILENAME = "input_example.json"
SERVING_INPUT_FILENAME = "serving_input_example.json"


class Example:
    """An input example, optionally a ``(data, params)`` tuple, ready to be saved."""

    def __init__(self, input_example):
        from skiff.models.infer import (
            _is_ndarray,
            _is_pandas,
            _is_scalar,
            _is_sparse,
            column_name,
        )

        data, params = input_example, None
        if (isinstance(input_example, tuple) and len(input_example) == 2
                and isinstance(input_example[1], dict)):
            data, params = input_example
        self.data, self.params = data, params
        self.info: dict = {"artifact_path": EXAMPLE_FILENAME}
        if params:
            self.info["params"] = "true"
        serving = None
        if _is_pandas(data, "Series"):
            data = data.to_frame()
        if _is_pandas(data, "DataFrame"):
            split = data.to_dict(orient="split")
            split.pop("index", None)
            columns = [column_name(c) for c in split.pop("columns")]
            orient = "values"
            # MLflow leaves out the default column labels 0..n-1 (and says "values")
            if not all(c == i for i, c in enumerate(columns)):
                split = {"columns": columns, **split}
                orient = "split"
            stored = split
            serving = {"dataframe_split": split}
            self.info.update({"type": "dataframe", "pandas_orient": orient})
        elif _is_ndarray(data):
            stored = data
            serving = {"inputs": data}
            self.info["type"] = "ndarray"
        elif isinstance(data, dict):
            if any(_is_ndarray(v) for v in data.values()):
                if not all(_is_ndarray(v) for v in data.values()):
                    raise SkiffException.invalid_parameter_value(
                        "An input example dict must hold only numpy arrays or no numpy array")
                self.info["type"] = "ndarray"
            else:
                self.info["type"] = "json_object"
            stored = data
            serving = {"inputs": data}
        elif _is_sparse(data):
            fmt = "csc" if type(data).__name__.startswith("csc") else "csr"
            stored = {"data": data.data, "indices": data.indices, "indptr": data.indptr,
                      "shape": list(data.shape)}
            serving = {"inputs": data.toarray()}
            self.info["type"] = f"sparse_matrix_{fmt}"
        elif isinstance(data, (list, tuple)) or _is_scalar(data):
            stored = list(data) if isinstance(data, tuple) else data
            serving = {"inputs": stored}
            self.info["type"] = "json_object"
        else:
            raise SkiffException.invalid_parameter_value(
                "An input example must be a pandas DataFrame, a numpy array, a dict, a list, "
                f"a scalar or a scipy sparse matrix; got {type(data).__name__}")
        if params:
            stored = {"inputs": stored, "params": params}
            serving = {**serving, "params": params}
        self.json_example = dumps(stored)
        self.json_serving = dumps(serving, indent=2)
        self.info["serving_input_path"] = SERVING_INPUT_FILENAME

    def save(self, directory: str) -> None:
        with open(os.path.join(directory, EXAMPLE_FILENAME), "w") as fh:
            fh.write(self.json_example)
        with open(os.path.join(directory, SERVING_INPUT_FILENAME), "w") as fh:
            fh.write(self.json_serving)


def read_example(model, path: str):
    """The input example saved beside ``model`` in directory ``path`` (None if none), in a
    form the model can score: a DataFrame for ``dataframe`` examples, arrays for
    ``ndarray``, the JSON value otherwise."""
    info = model.saved_input_example_info
    if not info:
        return None
    with open(os.path.join(path, info.get("artifact_path", EXAMPLE_FILENAME))) as fh:
        value = json.load(fh)
    if info.get("params"):
        value = value["inputs"]
    kind = info.get("type")
    if kind == "dataframe":
        import pandas as pd

        if isinstance(value, dict) and "data" in value:  # split, or values (no columns)
            return pd.DataFrame(value["data"], columns=value.get("columns"))
        return pd.DataFrame(value)
    if kind == "ndarray":
        import numpy as np

        if isinstance(value, dict):
            return {k: np.asarray(v) for k, v in value.items()}
        return np.asarray(value)
    if kind in ("sparse_matrix_csc", "sparse_matrix_csr"):
        from scipy import sparse

        cls = sparse.csc_matrix if kind.endswith("csc") else sparse.csr_matrix
        return cls((value["data"], value["indices"], value["indptr"]),
                   shape=tuple(value["shape"]))
    return value


def read_example_params(model, path: str):
    info = model.saved_input_example_info
    if not info or not info.get("params"):
        return None
    with open(os.path.join(path, info.get("artifact_path", EXAMPLE_FILENAME))) as fh:
        return json.load(fh).get("params")
