"""Writing and reading the estimator file in MLflow's three formats. Reading a pickle-based
file is never silent: the file being unpickled is logged."""

from __future__ import annotations

import logging
import pickle

from skiff.errors import SkiffException

_logger = logging.getLogger("skiff.sklearn")

SKOPS = "skops"
PICKLE = "pickle"
CLOUDPICKLE = "cloudpickle"
FORMATS = (SKOPS, PICKLE, CLOUDPICKLE)
FILE_NAMES = {SKOPS: "model.skops", PICKLE: "model.pkl", CLOUDPICKLE: "model.pkl"}


def check_format(serialization_format: str) -> None:
    if serialization_format not in FORMATS:
        raise SkiffException.invalid_parameter_value(
            f"Unrecognized serialization format: {serialization_format!r}. Please specify one "
            f"of the following supported formats: {list(FORMATS)}.")


def dump(model, path: str, serialization_format: str, skops_trusted_types=None) -> None:
    check_format(serialization_format)
    if serialization_format == SKOPS:
        import skops.io

        skops.io.dump(model, path)
        _remember_skops_trust()
        untrusted = sorted(set(skops.io.get_untrusted_types(file=path))
                           - set(skops_trusted_types or ()))
        if untrusted:
            raise SkiffException.invalid_parameter_value(
                f"The model references types that skops does not trust: {untrusted}. If you "
                "trust them, pass them as skops_trusted_types, or save with "
                "serialization_format='cloudpickle'.")
        return
    with open(path, "wb") as fh:
        if serialization_format == CLOUDPICKLE:
            import cloudpickle

            cloudpickle.dump(model, fh, protocol=pickle.DEFAULT_PROTOCOL)
        else:
            pickle.dump(model, fh, protocol=pickle.DEFAULT_PROTOCOL)


def _remember_skops_trust() -> None:
    from skiff_flavor_sklearn._skops_trust import remember

    remember()


def load(path: str, serialization_format: str, skops_trusted_types=None):
    check_format(serialization_format)
    if serialization_format == SKOPS:
        trusted = list(skops_trusted_types or []) or None
        from skiff_flavor_sklearn import _skops_reader

        model = _skops_reader.load(path, trusted)
        if model is not _skops_reader.NOT_HANDLED:
            return model
        import skops.io

        try:
            return skops.io.load(path, trusted=trusted)
        finally:  # skops just listed its trusted types: keep them for the next process
            _remember_skops_trust()
    _logger.warning("Unpickling the scikit-learn model file %s (%s); unpickling runs code from "
                    "the file: only load models from sources you trust", path,
                    serialization_format)
    with open(path, "rb") as fh:
        if serialization_format == CLOUDPICKLE:
            import cloudpickle

            return cloudpickle.load(fh)
        return pickle.load(fh)
