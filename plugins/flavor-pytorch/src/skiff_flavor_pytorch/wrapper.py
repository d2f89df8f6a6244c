"""The pyfunc face of a PyTorch model: DataFrames, numpy arrays, tensors, lists and dicts of
arrays or tensors in; numpy arrays (a DataFrame for DataFrame input, as MLflow) out."""

from __future__ import annotations

from skiff.errors import SkiffException

CPU = "cpu"


def default_device(model_config: dict | None) -> str:
    """``model_config['device']``, else ``SKIFF_DEFAULT_PREDICTION_DEVICE`` (or MLflow's
    variable), else the CPU: a GPU is used only when asked for."""
    from skiff.env import get_env

    device = (model_config or {}).get("device")
    return device or get_env("DEFAULT_PREDICTION_DEVICE") or CPU


def _floating_dtype(model):
    """The dtype of the model's first floating parameter (None for weightless models)."""
    try:
        for param in model.parameters():
            if param.is_floating_point():
                return param.dtype
    except Exception:  # exported or scripted modules without parameters()
        return None
    return None


class PyTorchModelWrapper:
    """``predict(data, params)`` for a loaded ``torch.nn.Module``; extra params go to
    ``forward`` as keyword arguments."""

    def __init__(self, pytorch_model, device: str = CPU):
        self.pytorch_model = pytorch_model
        self.device = device
        self._dtype = _floating_dtype(pytorch_model)

    def get_raw_model(self):
        return self.pytorch_model

    def _tensor(self, value):
        import numpy as np
        import torch

        if not isinstance(value, torch.Tensor):
            array = np.asarray(value)
            if array.dtype.kind == "O":
                raise SkiffException.invalid_parameter_value(
                    "PyTorch models take numeric input; got values of dtype object")
            value = torch.from_numpy(np.ascontiguousarray(array))
        # Floats follow the weights (float64 numpy input into float32 layers would fail).
        if value.is_floating_point() and self._dtype is not None and value.dtype != self._dtype:
            value = value.to(self._dtype)
        return value.to(self.device)

    def predict(self, data, params=None):
        import numpy as np
        import pandas as pd
        import torch

        params = dict(params or {})
        if "device" in params:
            raise SkiffException.invalid_parameter_value(
                "'device' is not an inference parameter: choose it when loading, e.g. "
                "skiff.pyfunc.load_model(uri, model_config={'device': 'cuda'})")
        frame_index = None
        if isinstance(data, pd.DataFrame):
            frame_index = data.index
            args, kwargs = (self._tensor(data.to_numpy(dtype=np.float32)),), {}
        elif isinstance(data, pd.Series):
            args, kwargs = (self._tensor(data.to_numpy(dtype=np.float32)),), {}
        elif isinstance(data, dict):
            args, kwargs = (), {str(k): self._tensor(v) for k, v in data.items()}
        elif isinstance(data, (tuple,)):
            args, kwargs = tuple(self._tensor(v) for v in data), {}
        else:
            args, kwargs = (self._tensor(data),), {}
        with torch.no_grad():
            output = self.pytorch_model(*args, **kwargs, **params)
        output = _to_host(output)
        if frame_index is not None and isinstance(output, np.ndarray) and output.ndim <= 2:
            frame = pd.DataFrame(output)
            frame.index = frame_index
            return frame
        return output


def _to_host(output):
    """Tensors (also inside tuples, lists and dicts) as numpy arrays on the CPU."""
    import torch

    if isinstance(output, torch.Tensor):
        return output.detach().to(CPU).numpy()
    if isinstance(output, dict):
        return {k: _to_host(v) for k, v in output.items()}
    if isinstance(output, (list, tuple)):
        return [_to_host(v) for v in output]
    raise SkiffException(
        f"The PyTorch model returned {type(output).__name__}; pyfunc expects a tensor, or a "
        "tuple, list or dict of tensors", "INVALID_STATE")
