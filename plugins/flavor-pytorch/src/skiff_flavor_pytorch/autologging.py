"""``skiff.pytorch.autolog()``: the :func:`skiff.pytorch.train` loop (and PyTorch
Lightning's ``Trainer.fit`` when Lightning is installed) logs the optimizer's params, each
epoch's metrics and the trained model. Logging never breaks training: errors are warned
about (or, with ``silent=True``, only debug-logged)."""

from __future__ import annotations

import logging

_logger = logging.getLogger("skiff.pytorch")
_config: dict = {}


def autolog(log_every_n_epoch=1, log_models=True, disable=False, silent=False,
            registered_model_name=None, extra_tags=None, log_model_signatures=True,
            serialization_format=None):
    """Turn on (or with ``disable=True`` off) automatic logging of PyTorch training."""
    if disable:
        _config.clear()
        from skiff_flavor_pytorch import lightning

        lightning.unpatch()
        return
    _config.update(enabled=True, log_every_n_epoch=max(int(log_every_n_epoch or 1), 1),
                   log_models=log_models, silent=silent,
                   registered_model_name=registered_model_name,
                   extra_tags=dict(extra_tags or {}),
                   log_model_signatures=log_model_signatures,
                   serialization_format=serialization_format)
    from skiff_flavor_pytorch import lightning

    lightning.patch()


def enabled() -> bool:
    return bool(_config.get("enabled"))


def _warn(what: str, exc: Exception) -> None:
    log = _logger.debug if _config.get("silent") else _logger.warning
    log("skiff.pytorch.autolog could not %s: %s", what, exc)


def optimizer_params(optimizer) -> dict:
    """MLflow's names: ``optimizer_name`` and the first param group's hyperparameters."""
    params = {"optimizer_name": type(optimizer).__name__}
    groups = getattr(optimizer, "param_groups", None) or [{}]
    for key, value in groups[0].items():
        if key != "params" and isinstance(value, (int, float, str, bool, tuple, type(None))):
            params[key] = value
    return params


class Session:
    """One autologged training: owns the run it started, if it started one."""

    def __init__(self, model, example):
        from skiff.tracking import fluent

        self.model = model
        self.example = example
        self.started = fluent.active_run() is None
        self.run_id = (fluent.start_run() if self.started else fluent.active_run()).info.run_id

    def log_params(self, params: dict) -> None:
        from skiff.entities.metric import Param, RunTag
        from skiff.tracking.client import Client

        try:
            Client().log_batch(self.run_id,
                               params=[Param(str(k), str(v)[:6000]) for k, v in params.items()],
                               tags=[RunTag(str(k), str(v))
                                     for k, v in _config.get("extra_tags", {}).items()])
        except Exception as exc:
            _warn("log the training params", exc)

    def epoch_end(self, epoch: int, metrics: dict) -> None:
        if (epoch + 1) % _config.get("log_every_n_epoch", 1):
            return
        from skiff.entities.metric import Metric
        from skiff.tracking.client import Client, _now_ms

        now = _now_ms()
        try:
            Client().log_batch(self.run_id, metrics=[Metric(str(k), float(v), now, epoch)
                                                     for k, v in metrics.items()])
        except Exception as exc:
            _warn("log the epoch metrics", exc)

    def end(self, failed: bool) -> None:
        from skiff.tracking import fluent

        try:
            if not failed and _config.get("log_models", True):
                self._log_model()
        except Exception as exc:
            _warn("log the model", exc)
        finally:
            if self.started:
                fluent.end_run("FAILED" if failed else "FINISHED")

    def _log_model(self) -> None:
        from skiff_flavor_pytorch.flavor import log_model

        example = self.example if _config.get("log_model_signatures", True) else None
        log_model(self.model, name="model",
                  input_example=example,
                  signature=None if example is not None else False,
                  serialization_format=_config.get("serialization_format"),
                  registered_model_name=_config.get("registered_model_name"))


def _example_inputs(loader):
    """The inputs of the loader's first batch (at most 5 rows), for the model's example."""
    try:
        inputs = next(iter(loader))[0]
        return inputs[:5].detach().cpu() if hasattr(inputs, "detach") else None
    except Exception as exc:
        _logger.debug("no input example for the autologged model: %s", exc)
        return None


def start_session(model, optimizer, loss_fn, epochs, loader):
    """A Session for a :func:`train` call when autologging is on, else None."""
    if not enabled():
        return None
    session = Session(model, _example_inputs(loader))
    params = {"epochs": epochs, **optimizer_params(optimizer)}
    if loss_fn is not None:
        params["loss_function"] = getattr(loss_fn, "__name__", type(loss_fn).__name__)
    session.log_params(params)
    return session
