"""Optimiser parameter groups built from the hints that cores attach to SSM parameters."""

from __future__ import annotations

from torch import nn

from sslearn.nn.cores import ssm_parameters


def param_groups(
    model: nn.Module, lr: float, weight_decay: float = 0.0, ssm_lr: float | None = None
) -> list[dict]:
    """Split ``model``'s trainable parameters into optimiser groups.

    - SSM parameters (registered by the cores with
      :func:`~sslearn.nn.cores.register_ssm_parameter`: step sizes, A, B, P): ``lr=ssm_lr``
      (``lr`` when None) and no weight decay;
    - biases and normalisation weights (1-D tensors): ``lr`` and no weight decay;
    - everything else (C, D is 1-D so it is not decayed, linear weights): ``lr`` and
      ``weight_decay``.

    Returns
    -------
    list of dict
        Ready for ``torch.optim.AdamW(groups)``; empty groups are dropped. Each group has a
        ``"name"`` key (``"ssm"``, ``"no_decay"``, ``"decay"``).
    """
    ssm, no_decay, decay = [], [], []
    tagged = {id(param) for param in ssm_parameters(model)}
    for param in model.parameters():
        if not param.requires_grad:
            continue
        if id(param) in tagged:
            ssm.append(param)
        elif param.ndim <= 1:
            no_decay.append(param)
        else:
            decay.append(param)
    groups = [
        {"name": "ssm", "params": ssm, "lr": lr if ssm_lr is None else ssm_lr, "weight_decay": 0.0},
        {"name": "no_decay", "params": no_decay, "lr": lr, "weight_decay": 0.0},
        {"name": "decay", "params": decay, "lr": lr, "weight_decay": weight_decay},
    ]
    return [group for group in groups if group["params"]]
