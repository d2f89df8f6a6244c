"""Writing figures and images to files for ``log_figure`` / ``log_image``."""

from __future__ import annotations

from skiff.errors import SkiffException


def write_figure(figure, path: str, save_kwargs=None) -> None:
    """matplotlib figures via savefig, plotly figures via write_html / write_image."""
    save_kwargs = save_kwargs or {}
    if hasattr(figure, "savefig"):  # matplotlib
        figure.savefig(path, **save_kwargs)
    elif hasattr(figure, "write_html") and path.endswith(".html"):  # plotly
        figure.write_html(path, **save_kwargs)
    elif hasattr(figure, "write_image"):
        figure.write_image(path, **save_kwargs)
    else:
        raise SkiffException.invalid_parameter_value(
            f"Unsupported figure type {type(figure).__name__}: expected a matplotlib or plotly figure"
        )


def write_image(image, path: str) -> None:
    """numpy arrays (HxW, HxWx3, HxWx4; uint8 or floats in [0, 1]) and PIL images."""
    if hasattr(image, "save") and hasattr(image, "mode"):  # PIL.Image
        image.save(path)
        return
    try:
        from PIL import Image
    except ImportError:
        raise SkiffException.invalid_parameter_value(
            "log_image needs Pillow to encode arrays: pip install pillow"
        ) from None
    import numpy as np

    array = np.asarray(image)
    if array.dtype.kind == "f":
        if array.min() < 0 or array.max() > 1:
            raise SkiffException.invalid_parameter_value(
                "Float image values must lie in [0, 1]")
        array = (array * 255).round().astype("uint8")
    elif array.dtype != np.uint8:
        if array.min() < 0 or array.max() > 255:
            raise SkiffException.invalid_parameter_value(
                "Integer image values must lie in [0, 255]")
        array = array.astype("uint8")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    Image.fromarray(array).save(path)
