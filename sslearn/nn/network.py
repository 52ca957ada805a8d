"""The residual block and the sequence network around :class:`LiquidSSM` (the paper's recipe)."""

from __future__ import annotations

import torch
from torch import nn

from sslearn.nn.functional import length_mask
from sslearn.nn.layer import LiquidSSM
from sslearn.nn.norm import make_norm

POOLINGS = ("mean", "last")


class LiquidS4Block(nn.Module):
    """``x + dropout(GLU(Linear(dropout(GELU(LiquidSSM(norm(x)))))))`` on (B, H, L).

    Parameters
    ----------
    d_model : int
        Channels H.
    norm : {"layer", "batch"}, default="layer"
        Pre-normalisation (BatchNorm statistics skip padding).
    dropout : float, default=0.0
        Dropout after the activation and on the residual branch.
    **ssm_kwargs
        Passed to :class:`LiquidSSM`.
    """

    def __init__(self, d_model: int, *, norm: str = "layer", dropout: float = 0.0, **ssm_kwargs):
        super().__init__()
        self.norm = make_norm(norm, d_model)
        self.ssm = LiquidSSM(d_model, **ssm_kwargs)
        self.activation = nn.GELU()
        self.dropout = nn.Dropout(dropout)
        self.output_linear = nn.Linear(d_model, 2 * d_model)
        self.glu = nn.GLU(dim=-1)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        z = self.ssm(self.norm(x, lengths), lengths)  # (B, H, L)
        z = self.dropout(self.activation(z))
        z = self.glu(self.output_linear(z.transpose(1, 2))).transpose(1, 2)
        out = x + self.dropout(z)
        if lengths is not None:
            out = out * length_mask(lengths, x.shape[-1])[:, None, :]
        return out

    def step(self, x_t: torch.Tensor, state: dict) -> tuple[torch.Tensor, dict]:
        """One streaming step on (B, H) (evaluation mode)."""
        z = self.norm(x_t[..., None]).squeeze(-1)
        z, state = self.ssm.step(z, state)
        z = self.dropout(self.activation(z))
        return x_t + self.dropout(self.glu(self.output_linear(z))), state


class LiquidS4Network(nn.Module):
    """Encoder -> ``n_layers`` residual Liquid-S4 blocks -> norm -> masked pooling -> head.

    Parameters
    ----------
    d_input : int
        Input channels C.
    d_output : int
        Outputs per series (classes for logits, targets for regression).
    d_model : int, default=64
    n_layers : int, default=4
    norm : {"layer", "batch"}, default="layer"
    pooling : {"mean", "last"}, default="mean"
        Mean over valid steps, or the last valid step.
    dropout : float, default=0.0
    **ssm_kwargs
        Passed to every :class:`LiquidSSM` (``d_state``, ``ssm``, ``liquid_kernel``, ...).

    Examples
    --------
    >>> import torch
    >>> net = LiquidS4Network(3, 2, d_model=8, n_layers=1, d_state=4, liquid_kernel="pb")
    >>> net(torch.randn(5, 3, 20), lengths=torch.full((5,), 20)).shape
    torch.Size([5, 2])
    """

    def __init__(
        self,
        d_input: int,
        d_output: int,
        *,
        d_model: int = 64,
        n_layers: int = 4,
        norm: str = "layer",
        pooling: str = "mean",
        dropout: float = 0.0,
        **ssm_kwargs,
    ) -> None:
        super().__init__()
        for name, value in (("d_input", d_input), ("d_output", d_output), ("n_layers", n_layers)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r}; use one of {POOLINGS}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.pooling = pooling
        self.encoder = nn.Linear(d_input, d_model)
        self.blocks = nn.ModuleList(
            LiquidS4Block(d_model, norm=norm, dropout=dropout, **ssm_kwargs)
            for _ in range(n_layers)
        )
        self.final_norm = make_norm(norm, d_model)
        self.head = nn.Linear(d_model, d_output)

    def features(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Per-step features of shape (B, H, L) before pooling."""
        h = self.encoder(x.transpose(1, 2)).transpose(1, 2)  # (B, H, L)
        if lengths is not None:
            h = h * length_mask(lengths, x.shape[-1])[:, None, :]
        for block in self.blocks:
            h = block(h, lengths)
        return self.final_norm(h, lengths)

    def pool(self, h: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """Masked mean or last valid step of (B, H, L) -> (B, H)."""
        batch, _, length = h.shape
        if lengths is None:
            lengths = torch.full((batch,), length, device=h.device, dtype=torch.long)
        if self.pooling == "last":
            index = (lengths - 1).clamp(min=0)[:, None, None].expand(-1, h.shape[1], 1)
            return h.gather(-1, index).squeeze(-1)
        valid = length_mask(lengths, length)[:, None, :].to(h.dtype)
        return (h * valid).sum(-1) / lengths.clamp(min=1)[:, None].to(h.dtype)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Map x of shape (B, C, L) (and optional lengths (B,)) to outputs (B, d_output)."""
        return self.head(self.pool(self.features(x, lengths), lengths))

    def initial_state(self, batch_size: int) -> dict:
        """Streaming state: every block's layer state and the running pooled sum."""
        return {
            "blocks": [block.ssm.initial_state(batch_size) for block in self.blocks],
            "sum": self.head.weight.new_zeros(batch_size, self.head.in_features),
            "count": 0,
        }

    def step(self, x_t: torch.Tensor, state: dict) -> tuple[torch.Tensor, dict]:
        """Feed one time step x_t (B, C); return the prediction for the prefix seen so far.

        After feeding a whole series, the output equals :meth:`forward` on it (eval mode).
        """
        h = self.encoder(x_t)
        block_states = []
        for block, block_state in zip(self.blocks, state["blocks"], strict=True):
            h, block_state = block.step(h, block_state)
            block_states.append(block_state)
        h = self.final_norm(h[..., None]).squeeze(-1)
        total, count = state["sum"] + h, state["count"] + 1
        pooled = h if self.pooling == "last" else total / count
        return self.head(pooled), {"blocks": block_states, "sum": total, "count": count}
