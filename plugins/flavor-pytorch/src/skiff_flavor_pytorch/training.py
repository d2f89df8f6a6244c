"""``train``: a plain PyTorch training loop (epochs over a DataLoader, optional validation)
that ``skiff.pytorch.autolog()`` instruments."""

from __future__ import annotations


def _split_batch(batch):
    if isinstance(batch, (list, tuple)) and len(batch) == 2:
        return batch[0], batch[1]
    raise TypeError("train() expects batches of (inputs, targets); got "
                    f"{type(batch).__name__}")


def _to(value, device):
    return value.to(device) if hasattr(value, "to") else value


def _run_epoch(model, loader, loss_fn, optimizer, device) -> float:
    """One pass over ``loader``; trains when an optimizer is given. Returns the mean loss
    per sample."""
    import torch

    total, count = 0.0, 0
    with torch.set_grad_enabled(optimizer is not None):
        for batch in loader:
            inputs, targets = _split_batch(batch)
            inputs, targets = _to(inputs, device), _to(targets, device)
            loss = loss_fn(model(inputs), targets)
            if optimizer is not None:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            size = len(inputs) if hasattr(inputs, "__len__") else 1
            total += float(loss.detach()) * size
            count += size
    return total / max(count, 1)


def train(model, train_loader, optimizer, loss_fn, epochs: int = 1, val_loader=None,
          device: str = "cpu") -> dict:
    """Train ``model`` for ``epochs`` over ``train_loader`` (batches of ``(inputs,
    targets)``); returns the history ``{"loss": [...], "val_loss": [...]}``. With
    ``skiff.pytorch.autolog()`` on, the params, each epoch's metrics and the trained model
    are logged to the active run (one is started and ended if none is active)."""
    from skiff_flavor_pytorch import autologging

    model.to(device)
    session = autologging.start_session(model, optimizer, loss_fn, epochs, train_loader)
    history: dict[str, list[float]] = {"loss": []}
    if val_loader is not None:
        history["val_loss"] = []
    try:
        for epoch in range(epochs):
            model.train()
            history["loss"].append(_run_epoch(model, train_loader, loss_fn, optimizer, device))
            if val_loader is not None:
                model.eval()
                history["val_loss"].append(_run_epoch(model, val_loader, loss_fn, None, device))
            if session is not None:
                session.epoch_end(epoch, {k: v[-1] for k, v in history.items()})
    except BaseException:
        if session is not None:
            session.end(failed=True)
        raise
    model.eval()
    if session is not None:
        session.end(failed=False)
    return history
