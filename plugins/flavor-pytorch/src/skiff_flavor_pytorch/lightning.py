"""PyTorch Lightning support for ``skiff.pytorch.autolog()``, active only where Lightning
(``lightning`` or ``pytorch_lightning``) is installed: ``Trainer.fit`` gets a callback that
logs the optimizer's params, each epoch's ``callback_metrics`` and the trained model."""

from __future__ import annotations

import functools
import importlib

_patched: dict = {}  # Trainer class -> original fit


def _lightning_modules():
    for name in ("lightning.pytorch", "pytorch_lightning"):
        try:
            yield importlib.import_module(name)
        except ImportError:
            continue


def patch() -> None:
    for module in _lightning_modules():
        trainer_cls = module.Trainer
        if trainer_cls not in _patched:
            _patched[trainer_cls] = trainer_cls.fit
            trainer_cls.fit = _patched_fit(trainer_cls.fit, module)


def unpatch() -> None:
    for trainer_cls, original in list(_patched.items()):
        trainer_cls.fit = original
    _patched.clear()


def _patched_fit(original, module):
    @functools.wraps(original)
    def fit(self, model, *args, **kwargs):
        from skiff_flavor_pytorch import autologging

        if not autologging.enabled():
            return original(self, model, *args, **kwargs)
        callback = _callback_class(module)()
        self.callbacks.append(callback)
        try:
            return original(self, model, *args, **kwargs)
        except BaseException:
            callback.finish(failed=True)
            raise
        finally:
            self.callbacks.remove(callback)
            callback.finish(failed=False)

    return fit


def _callback_class(module):
    from skiff_flavor_pytorch import autologging

    class SkiffLightningCallback(module.Callback):
        session = None

        def on_train_start(self, trainer, pl_module):
            self.session = autologging.Session(pl_module, None)
            params = {"epochs": trainer.max_epochs}
            if trainer.optimizers:
                params.update(autologging.optimizer_params(trainer.optimizers[0]))
            self.session.log_params(params)

        def on_train_epoch_end(self, trainer, pl_module):
            if self.session is not None:
                metrics = {k: float(v) for k, v in trainer.callback_metrics.items()
                           if getattr(v, "numel", lambda: 1)() == 1}
                self.session.epoch_end(trainer.current_epoch, metrics)

        def finish(self, failed):
            if self.session is not None:
                session, self.session = self.session, None
                session.end(failed=failed)

    return SkiffLightningCallback
