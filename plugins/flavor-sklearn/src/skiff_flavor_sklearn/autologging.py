"""``skiff.sklearn.autolog()``: every estimator's ``fit`` logs its params, training metrics,
the fitted model and an input example. Nested fits (a Pipeline fitting its steps, a search
fitting candidates) log once, for the outermost estimator."""

from __future__ import annotations

import functools
import logging
import threading

_logger = logging.getLogger("skiff.sklearn")
_local = threading.local()
_patched: dict = {}  # class -> original fit
_config: dict = {}
_PARAM_VALUE_LIMIT = 6000


def autolog(log_input_examples=True, log_model_signatures=True, log_models=True,
            disable=False, silent=False, serialization_format="skops",
            registered_model_name=None, extra_tags=None, pos_label=None):
    """Turn on (or with ``disable=True`` off) automatic logging for scikit-learn ``fit``.
    A fit outside a run starts one and ends it; inside a run it logs there."""
    if disable:
        for cls, original in list(_patched.items()):
            cls.fit = original
        _patched.clear()
        return
    _config.update(log_input_examples=log_input_examples,
                   log_model_signatures=log_model_signatures, log_models=log_models,
                   silent=silent, serialization_format=serialization_format,
                   registered_model_name=registered_model_name,
                   extra_tags=dict(extra_tags or {}), pos_label=pos_label)
    from sklearn.utils import all_estimators

    for _name, cls in all_estimators():
        if "fit" in cls.__dict__ and cls not in _patched:
            _patched[cls] = cls.__dict__["fit"]
            cls.fit = _patched_fit(cls.__dict__["fit"])


def _patched_fit(original):
    @functools.wraps(original)
    def fit(self, *args, **kwargs):
        if getattr(_local, "active", False):
            return original(self, *args, **kwargs)
        _local.active = True
        try:
            return _fit_and_log(original, self, args, kwargs)
        finally:
            _local.active = False

    fit._skiff_autolog = True
    return fit


def _fit_and_log(original, estimator, args, kwargs):
    from skiff.tracking import fluent

    started = fluent.active_run() is None
    run = fluent.start_run() if started else fluent.active_run()
    try:
        result = original(estimator, *args, **kwargs)
    except BaseException:
        if started:
            fluent.end_run("FAILED")
        raise
    try:
        _log_fit(estimator, run.info.run_id, args, kwargs)
    except Exception as exc:  # autologging never breaks training
        if not _config.get("silent"):
            _logger.warning("skiff.sklearn.autolog could not log the fit: %s", exc)
    finally:
        if started:
            fluent.end_run()
    return result


def _training_data(args, kwargs):
    X = kwargs.get("X", args[0] if args else None)
    y = kwargs.get("y", args[1] if len(args) > 1 else None)
    return X, y, kwargs.get("sample_weight")


def _log_fit(estimator, run_id, args, kwargs):
    from skiff.entities.metric import Metric, Param, RunTag
    from skiff.tracking.client import Client, _now_ms

    client = Client()
    params = [Param(str(k), _param_value(v)) for k, v in estimator.get_params(deep=True).items()]
    tags = [RunTag("estimator_name", type(estimator).__name__),
            RunTag("estimator_class", f"{type(estimator).__module__}."
                                      f"{type(estimator).__qualname__}")]
    tags += [RunTag(str(k), str(v)) for k, v in _config.get("extra_tags", {}).items()]
    X, y, sample_weight = _training_data(args, kwargs)
    now = _now_ms()
    metrics = [Metric(k, float(v), now, 0)
               for k, v in training_metrics(estimator, X, y, sample_weight).items()]
    client.log_batch(run_id, metrics=metrics, params=params, tags=tags)
    if _config.get("log_models", True):
        _log_model(estimator, X)


def _param_value(value) -> str:
    text = str(value)
    return text[:_PARAM_VALUE_LIMIT]


def _log_model(estimator, X):
    from skiff_flavor_sklearn.flavor import log_model

    example = None
    if _config.get("log_input_examples") and X is not None:
        example = X[:5] if not hasattr(X, "iloc") else X.iloc[:5]
    signature = None if _config.get("log_model_signatures", True) else False
    if signature is None and example is None and X is not None:
        from skiff.models.infer import infer_signature

        try:
            sample = X[:5] if not hasattr(X, "iloc") else X.iloc[:5]
            signature = infer_signature(sample, estimator.predict(sample))
        except Exception as exc:
            _logger.debug("no signature for the autologged model: %s", exc)
    log_model(estimator, name="model", input_example=example, signature=signature,
              serialization_format=_config.get("serialization_format", "skops"),
              registered_model_name=_config.get("registered_model_name"))


def training_metrics(estimator, X, y, sample_weight=None) -> dict:
    """MLflow's ``training_*`` metrics for classifiers and regressors, and the estimator's
    own ``score``; metrics that do not apply are left out."""
    from sklearn import base, metrics

    out = {}
    if X is None:
        return out
    if y is not None and base.is_classifier(estimator):
        pred = estimator.predict(X)
        labels = set(getattr(estimator, "classes_", []))
        average = "binary" if len(labels) == 2 else "weighted"
        extra = {"pos_label": _config["pos_label"]} if _config.get("pos_label") is not None \
            and average == "binary" else {}
        out["training_accuracy_score"] = metrics.accuracy_score(y, pred,
                                                                sample_weight=sample_weight)
        for key, fn in (("training_precision_score", metrics.precision_score),
                        ("training_recall_score", metrics.recall_score),
                        ("training_f1_score", metrics.f1_score)):
            out[key] = fn(y, pred, average=average, sample_weight=sample_weight,
                          zero_division=0, **extra)
        if hasattr(estimator, "predict_proba"):
            try:
                proba = estimator.predict_proba(X)
                out["training_log_loss"] = metrics.log_loss(y, proba,
                                                            sample_weight=sample_weight)
                if len(labels) == 2:
                    out["training_roc_auc"] = metrics.roc_auc_score(y, proba[:, 1])
                else:
                    out["training_roc_auc"] = metrics.roc_auc_score(
                        y, proba, multi_class="ovr", sample_weight=sample_weight)
            except Exception as exc:
                _logger.debug("probability metrics skipped: %s", exc)
    elif y is not None and base.is_regressor(estimator):
        pred = estimator.predict(X)
        mse = metrics.mean_squared_error(y, pred, sample_weight=sample_weight)
        out["training_mean_squared_error"] = mse
        out["training_root_mean_squared_error"] = mse ** 0.5
        out["training_mean_absolute_error"] = metrics.mean_absolute_error(
            y, pred, sample_weight=sample_weight)
        out["training_r2_score"] = metrics.r2_score(y, pred, sample_weight=sample_weight)
    if hasattr(estimator, "score"):
        try:
            out["training_score"] = estimator.score(X, y) if y is not None else \
                estimator.score(X)
        except Exception as exc:
            _logger.debug("training_score skipped: %s", exc)
    return out
