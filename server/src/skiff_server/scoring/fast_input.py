"""A shortcut for the most common request: ``dataframe_split`` of plain numbers for a model
whose signature is all ``double``/``float`` columns. The rows become one float64 block in a
single C call instead of pandas inferring each column from Python lists; anything else (or
anything unusual: an index, nulls, strings, booleans, other columns) goes through
:mod:`skiff.pyfunc.scoring_io`, so the answers, errors included, are the same either way."""

from __future__ import annotations

_FLOAT_TYPES = ("double", "float")
_NUMBER_TYPES = frozenset((float, int))


def _float_column_names(schema) -> list[str] | None:
    if schema is None or not len(schema) or schema.is_tensor_spec():
        return None
    names = []
    for spec in schema:
        kind = getattr(getattr(spec, "type", None), "value", getattr(spec, "type", None))
        if spec.name is None or kind not in _FLOAT_TYPES:
            return None
        names.append(spec.name)
    return names


class SplitShortcut:
    def __init__(self, schema):
        self.names = _float_column_names(schema)

    def parse(self, payload):
        """(frame, params) for a decoded JSON body, or None to take the general path."""
        if self.names is None or not isinstance(payload, dict):
            return None
        split = payload.get("dataframe_split")
        params = payload.get("params")
        if not isinstance(split, dict) or len(payload) != 1 + (params is not None) \
                or (params is not None and not isinstance(params, dict)):
            return None
        if split.keys() != {"columns", "data"} or split["columns"] != self.names:
            return None
        data = split["data"]
        width = len(self.names)
        if not isinstance(data, list) or not data:
            return None
        for row in data:
            if type(row) is not list or len(row) != width \
                    or not {type(v) for v in row} <= _NUMBER_TYPES:
                return None
        import numpy as np
        import pandas as pd

        return pd.DataFrame(np.array(data, dtype=np.float64), columns=self.names), params
