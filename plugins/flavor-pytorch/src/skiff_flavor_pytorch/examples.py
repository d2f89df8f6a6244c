"""Input examples for PyTorch models: tensors become numpy arrays for ``input_example.json``
(MLflow's format has no tensors), and the same values, as tensors, trace ``torch.export``."""

from __future__ import annotations


def _is_array_like(value) -> bool:
    import numpy as np
    import torch

    return isinstance(value, (np.ndarray, torch.Tensor))


def _as_numpy(value):
    import torch

    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else value


def _as_tensor(value):
    import torch

    return value if isinstance(value, torch.Tensor) else torch.from_numpy(value)


class SplitExample:
    """``saved``: what is written as the input example (None when MLflow's format cannot
    hold it); ``args`` / ``kwargs``: the tensors ``forward`` is traced with."""

    def __init__(self, saved=None, args=(), kwargs=None, params=None):
        self.saved = saved
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})
        self.params = params

    @property
    def exportable(self) -> bool:
        return bool(self.args or self.kwargs)

    def infer_signature(self, wrapper):
        """The signature of the model run on the example (None when there is no example
        in MLflow's format)."""
        if self.saved is None:
            return None
        from skiff.models.input_example import Example
        from skiff.models.saving import _infer_from_example

        return _infer_from_example(Example(self.saved), wrapper.predict)

    def cast_floats(self, dtype) -> None:
        """Trace with floats of the weights' dtype (float64 numpy examples are common)."""
        if dtype is None:
            return
        self.args = tuple(_cast(t, dtype) for t in self.args)
        self.kwargs = {k: _cast(t, dtype) for k, t in self.kwargs.items()}


def _cast(tensor, dtype):
    return tensor.to(dtype) if tensor.is_floating_point() and tensor.dtype != dtype else tensor


def split_example(input_example) -> SplitExample:
    if input_example is None:
        return SplitExample()
    data, params = input_example, None
    if (isinstance(input_example, tuple) and len(input_example) == 2
            and isinstance(input_example[1], dict)
            and not all(_is_array_like(v) for v in input_example[1].values())):
        data, params = input_example

    def with_params(saved):
        return (saved, params) if params and saved is not None else saved

    if _is_array_like(data):
        return SplitExample(with_params(_as_numpy(data)), args=(_as_tensor(data),),
                            params=params)
    if isinstance(data, dict) and data and all(_is_array_like(v) for v in data.values()):
        saved = {str(k): _as_numpy(v) for k, v in data.items()}
        return SplitExample(with_params(saved),
                            kwargs={str(k): _as_tensor(v) for k, v in data.items()},
                            params=params)
    if isinstance(data, (tuple, list)) and data and all(_is_array_like(v) for v in data):
        if len(data) == 1:
            return SplitExample(with_params(_as_numpy(data[0])), args=(_as_tensor(data[0]),),
                                params=params)
        # Several positional inputs: MLflow's example format has no place for them.
        return SplitExample(None, args=[_as_tensor(v) for v in data], params=params)
    return SplitExample(input_example, params=params)
