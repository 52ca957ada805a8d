"""The residual block and the sequence network around :class:`LiquidSSM` (the paper's recipe),
for one network or an ensemble trained as one network, K independent members side by side
(the grouped channel-mixing layers of :mod:`sslearn.nn.mixing`).
"""

from __future__ import annotations

import torch
from torch import nn

from sslearn.nn.functional import length_mask
from sslearn.nn.layer import LiquidSSM
from sslearn.nn.mixing import GroupedLinear, make_norm, member_index
from sslearn.nn.stem import ConvStem

POOLINGS = ("mean", "max", "mean+max", "last")


class LiquidS4Block(nn.Module):
    """``x + dropout(GLU(Linear(dropout(GELU(LiquidSSM(conv(norm(x))))))))`` on (B, K·H, L).

    Parameters
    ----------
    d_model : int
        Channels H (of each member).
    norm : {"layer", "batch"}, default="layer"
        Pre-normalisation (BatchNorm statistics skip padding).
    dropout : float, default=0.0
        Dropout after the activation and on the residual branch.
    n_members : int, default=1
        K independent blocks side by side (the grouped mixing layers of this module): the
        SSM has K·H channels, the norm and the output projection act within each member's
        channels.
    conv_width : int, default=0
        Width ``w`` of a short causal convolution per channel, followed by SiLU, between
        the norm and the SSM (as in H3 and Mamba): ``z_k = silu(b + sum_j W_j z_{k-j})``
        over the last ``w`` steps, so sharp local shapes need not come from the SSM's
        smooth, slowly decaying kernels. 0 leaves it out.
    **ssm_kwargs
        Passed to :class:`LiquidSSM`.
    """

    def __init__(
        self,
        d_model: int,
        *,
        norm: str = "layer",
        dropout: float = 0.0,
        n_members: int = 1,
        conv_width: int = 0,
        **ssm_kwargs,
    ):
        super().__init__()
        self.n_members = n_members
        self.norm = make_norm(norm, d_model, n_members)
        channels = n_members * d_model
        # depthwise, so each member's channels stay its own
        self.conv = (
            nn.Conv1d(channels, channels, conv_width, groups=channels) if conv_width else None
        )
        self.ssm = LiquidSSM(channels, **ssm_kwargs)
        self.activation = nn.GELU()
        self.dropout = nn.Dropout(dropout)
        self.output_linear = GroupedLinear(d_model, 2 * d_model, n_members)

    def _glu(self, z: torch.Tensor) -> torch.Tensor:
        """GLU within each member: (B, K·2H, ...) -> (B, K·H, ...)."""
        z = z.unflatten(1, (self.n_members, -1))  # (B, K, 2H, ...)
        return nn.functional.glu(z, dim=2).flatten(1, 2)

    def forward(
        self,
        x: torch.Tensor,
        lengths: torch.Tensor | None = None,
        gaps: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """(B, K·H, L) -> (B, K·H, L); ``gaps`` (B, L) as in :meth:`LiquidSSM.forward`."""
        z = self.norm(x, lengths)
        if self.conv is not None:  # causal: step k sees steps k - w + 1 .. k
            width = self.conv.kernel_size[0]
            z = nn.functional.silu(self.conv(nn.functional.pad(z, (width - 1, 0))))
        z = self.ssm(z, lengths, gaps=gaps)  # (B, K·H, L)
        z = self.dropout(self.activation(z))
        z = self._glu(self.output_linear(z))
        out = x + self.dropout(z)
        if lengths is not None:
            out = out * length_mask(lengths, x.shape[-1])[:, None, :]
        return out

    def initial_state(self, batch_size: int) -> dict:
        """The SSM's streaming state, plus the last ``w - 1`` inputs of the convolution
        (zeros, as the padding of :meth:`forward`) under ``"conv"``."""
        state = self.ssm.initial_state(batch_size)
        if self.conv is not None:
            width = self.conv.kernel_size[0]
            state["conv"] = self.conv.weight.new_zeros(batch_size, self.conv.in_channels, width - 1)
        return state

    def step(
        self, x_t: torch.Tensor, state: dict, gap: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict]:
        """One streaming step on (B, H) (evaluation mode); ``gap`` (B,) or None."""
        z = self.norm(x_t[..., None]).squeeze(-1)
        window = None
        if self.conv is not None:
            window = torch.cat([state["conv"], z[..., None]], dim=-1)  # (B, K·H, w)
            z = nn.functional.silu((window * self.conv.weight[:, 0]).sum(-1) + self.conv.bias)
        z, state = self.ssm.step(z, state, gap)
        if window is not None:
            state = {**state, "conv": window[..., 1:]}
        z = self.dropout(self.activation(z))
        return x_t + self.dropout(self._glu(self.output_linear(z))), state


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
    pooling : {"mean", "max", "mean+max", "last"}, default="mean"
        Over each series' valid steps: the mean, the maximum, both side by side (the head
        sees 2·H features), or the last step.
    dropout : float, default=0.0
    n_members : int, default=1
        Independent networks trained side by side as one (a deep ensemble): every layer has
        K·H channels and no weight mixes two members (the grouped mixing layers of this
        module). With K > 1 the output has shape (B, K, d_output) and :meth:`member` returns
        one of them alone.
    conv_width : int, default=0
        A short causal convolution of this width before every block's SSM (see
        :class:`LiquidS4Block`); 0 leaves it out.
    stem_channels : int, default=0
        A convolutional front end (:class:`~sslearn.nn.ConvStem`: three convolutions
        of widths 8, 5 and 3 with this many channels, batch norms and ReLUs) whose output
        the encoder reads beside the raw input; causal unless ``bidirectional``. 0 leaves
        it out.
    stem_head : bool, default=False
        A second head per member on the front end's output averaged over each series'
        valid steps (the FCN's global average pooling), with a loss of its own: the output
        has shape (B, 2·K, d_output), the K members' heads then the K front-end heads, and
        the estimators combine them as an ensemble of 2·K. In a joint network the SSM
        blocks fit the training set first and leave the front end's features little to
        learn from; its own loss keeps them learning (``benchmarks/RESULTS.md`` §3). Takes
        ``stem_channels > 0``.
    irregular : bool, default=False
        Irregular sampling: the inputs carry one more channel, the last, holding the gaps
        (the time since the previous observation, in model units; 1 at the first step and
        everywhere on a regular grid). It is not encoded: every block's SSM discretises
        step ``k`` with the step size ``dt * gaps[:, k]`` (see :meth:`LiquidSSM.forward`).
    **ssm_kwargs
        Passed to every :class:`LiquidSSM` (``d_state``, ``ssm``, ``liquid_kernel``, ...).

    Examples
    --------
    >>> import torch
    >>> net = LiquidS4Network(3, 2, d_model=8, n_layers=1, d_state=4, liquid_kernel="pb")
    >>> net(torch.randn(5, 3, 20), lengths=torch.full((5,), 20)).shape
    torch.Size([5, 2])
    >>> LiquidS4Network(3, 2, d_model=8, n_layers=1, d_state=4, n_members=4)(
    ...     torch.randn(5, 3, 20)).shape
    torch.Size([5, 4, 2])
    >>> LiquidS4Network(3, 2, d_model=8, n_layers=1, d_state=4, stem_channels=8,
    ...     stem_head=True)(torch.randn(5, 3, 20)).shape  # the member's head, the stem's
    torch.Size([5, 2, 2])
    >>> irregular = LiquidS4Network(3, 2, d_model=8, n_layers=1, d_state=4, irregular=True)
    >>> gaps = torch.rand(5, 1, 20) + 0.5  # time since the previous step, the last channel
    >>> irregular(torch.cat([torch.randn(5, 3, 20), gaps], dim=1)).shape
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
        n_members: int = 1,
        conv_width: int = 0,
        stem_channels: int = 0,
        stem_head: bool = False,
        irregular: bool = False,
        **ssm_kwargs,
    ) -> None:
        super().__init__()
        for name, flag in (("irregular", irregular), ("stem_head", stem_head)):
            if not isinstance(flag, bool):
                raise ValueError(f"{name} must be a bool, got {flag!r}")
        for name, value in (
            ("d_input", d_input),
            ("d_output", d_output),
            ("n_layers", n_layers),
            ("n_members", n_members),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name, value in (("conv_width", conv_width), ("stem_channels", stem_channels)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
        if stem_head and not stem_channels:
            raise ValueError("stem_head=True takes a front end: set stem_channels > 0")
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r}; use one of {POOLINGS}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.config = {
            "d_input": d_input,
            "d_output": d_output,
            "d_model": d_model,
            "n_layers": n_layers,
            "norm": norm,
            "pooling": pooling,
            "dropout": dropout,
            "conv_width": conv_width,
            "stem_channels": stem_channels,
            "stem_head": stem_head,
            "irregular": irregular,
            **ssm_kwargs,
        }
        self.pooling, self.n_members, self.d_output = pooling, n_members, d_output
        self.d_input, self.irregular = d_input, irregular
        causal = not ssm_kwargs.get("bidirectional", False)
        self.stem = (
            ConvStem(d_input, stem_channels, n_members, causal=causal) if stem_channels else None
        )
        self.encoder = GroupedLinear(d_input + stem_channels, d_model, n_members)
        self.blocks = nn.ModuleList(
            LiquidS4Block(
                d_model,
                norm=norm,
                dropout=dropout,
                n_members=n_members,
                conv_width=conv_width,
                **ssm_kwargs,
            )
            for _ in range(n_layers)
        )
        self.final_norm = make_norm(norm, d_model, n_members)
        pooled = 2 * d_model if pooling == "mean+max" else d_model
        self.head = GroupedLinear(pooled, d_output, n_members)
        self.stem_head = GroupedLinear(stem_channels, d_output, n_members) if stem_head else None

    @property
    def n_heads(self) -> int:
        """Outputs per series along the members' axis: K, or 2·K with ``stem_head``."""
        return self.n_members * (1 if self.stem_head is None else 2)

    def member_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, C, L), shared by the members, or (B, K, C, L), one input per member
        (e.g. independently augmented) -> (B, K·C, L)."""
        if x.ndim == 4:
            return x.flatten(1, 2)
        return x.repeat(1, self.n_members, 1) if self.n_members > 1 else x

    def encoder_inputs(self, x: torch.Tensor, stem: torch.Tensor | None) -> torch.Tensor:
        """Each member's raw channels followed by its stem's: (B, K·(C + S), ...)."""
        if stem is None:
            return x
        members = (x.unflatten(1, (self.n_members, -1)), stem.unflatten(1, (self.n_members, -1)))
        return torch.cat(members, dim=2).flatten(1, 2)

    def encode(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Each member's stem and encoder: x as in :meth:`member_inputs` -> (B, K·H, L)."""
        return self._encode_with_stem(x, lengths)[0]

    def _encode_with_stem(
        self, x: torch.Tensor, lengths: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """:meth:`encode` and the front end's output (B, K·S, L), or None without one."""
        x = self.member_inputs(x)  # (B, K·C, L)
        stem = None if self.stem is None else self.stem(x, lengths)
        return self.encoder(self.encoder_inputs(x, stem)), stem

    def split_gaps(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(values, gaps)`` of an input: with ``irregular``, the last channel of x
        (B, C + 1, ...) or of member 0's x (B, K, C + 1, ...) is the gaps (B, ...);
        otherwise ``(x, None)``."""
        if not self.irregular:
            return x, None
        channels = x.shape[2] if x.ndim == 4 else x.shape[1]
        if channels != self.d_input + 1:
            raise ValueError(
                f"irregular=True takes d_input + 1 = {self.d_input + 1} channels (the gaps "
                f"last), got {channels}"
            )
        if x.ndim == 4:
            return x[:, :, :-1], x[:, 0, -1]
        return x[:, :-1], x[:, -1]

    def features(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Per-step features of shape (B, K·H, L) before pooling (x as in :meth:`encode`,
        with the gaps as its last channel when ``irregular``)."""
        return self._features_with_stem(x, lengths)[0]

    def _features_with_stem(
        self, x: torch.Tensor, lengths: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """:meth:`features` and the front end's output (B, K·S, L), or None without one."""
        x, gaps = self.split_gaps(x)
        h, stem = self._encode_with_stem(x, lengths)  # (B, K·H, L)
        if lengths is not None:
            h = h * length_mask(lengths, x.shape[-1])[:, None, :]
        for block in self.blocks:
            h = block(h, lengths, gaps)
        return self.final_norm(h, lengths), stem

    @staticmethod
    def _valid_mean(
        h: torch.Tensor, lengths: torch.Tensor | None, valid: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Mean of (B, F, L) over each series' valid steps -> (B, F); ``valid`` is the
        (B, 1, L) mask of ``lengths`` when the caller has it already."""
        if lengths is None:
            return h.mean(-1)
        if valid is None:
            valid = length_mask(lengths, h.shape[-1])[:, None, :]
        return (h * valid.to(h.dtype)).sum(-1) / lengths.clamp(min=1)[:, None].to(h.dtype)

    def pool(self, h: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        """Masked pooling of (B, K·H, L) over each series' valid steps -> (B, K·H) (or
        (B, K·2H) for ``"mean+max"``, each member's means then its maxima)."""
        length = h.shape[-1]
        if self.pooling == "last":
            if lengths is None:
                return h[..., -1]
            index = (lengths - 1).clamp(min=0)[:, None, None].expand(-1, h.shape[1], 1)
            return h.gather(-1, index).squeeze(-1)
        pooled = []
        valid = None if lengths is None else length_mask(lengths, length)[:, None, :]
        if self.pooling in ("mean", "mean+max"):
            pooled.append(self._valid_mean(h, lengths, valid))
        if self.pooling in ("max", "mean+max"):
            masked = h if valid is None else h.masked_fill(~valid, float("-inf"))
            pooled.append(masked.amax(-1))
        if len(pooled) == 1:
            return pooled[0]
        members = [p.unflatten(1, (self.n_members, -1)) for p in pooled]  # (B, K, H) each
        return torch.cat(members, dim=2).flatten(1)

    def head_outputs(self, pooled: torch.Tensor) -> torch.Tensor:
        """Each member's head: (B, K·F) -> (B, d_output), or (B, K, d_output) for K > 1."""
        out = self.head(pooled)
        return out if self.n_members == 1 else out.unflatten(1, (self.n_members, -1))

    def embed(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Pooled features (B, K·F), the input of the head: F = H, or 2·H for
        ``"mean+max"``; member-major (member k owns columns k·F to (k+1)·F - 1)."""
        return self.pool(self.features(x, lengths), lengths)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Map x (B, C, L) or (B, K, C, L) and optional lengths (B,) to outputs (B, d_output)
        (one member) or (B, K, d_output); with ``stem_head``, (B, 2·K, d_output)."""
        if self.stem_head is None:
            return self.head_outputs(self.embed(x, lengths))
        h, stem = self._features_with_stem(x, lengths)  # the front end's output, once
        outputs = self.head_outputs(self.pool(h, lengths))
        return self._with_stem_heads(outputs, self._valid_mean(stem, lengths))

    def _with_stem_heads(self, outputs: torch.Tensor, stem_means: torch.Tensor) -> torch.Tensor:
        """The members' outputs (B, d_output) or (B, K, d_output) followed by the front-end
        heads' on the front end's means (B, K·S) -> (B, 2·K, d_output)."""
        members = outputs.view(outputs.shape[0], self.n_members, -1)
        stem_outputs = self.stem_head(stem_means).unflatten(1, (self.n_members, -1))
        return torch.cat([members, stem_outputs], dim=1)

    def member(self, index: int) -> LiquidS4Network:
        """Member ``index`` of the ensemble as a network of its own (a copy of its weights)."""
        if not 0 <= index < self.n_members:
            raise IndexError(f"member {index} out of range for {self.n_members} members")
        single = LiquidS4Network(**self.config).to(self.head.weight)
        directions = 2 if self.config.get("bidirectional") else 1
        state = {}
        for name, tensor in self.state_dict().items():
            if tensor.ndim == 0:
                state[name] = tensor.clone()
                continue
            per = directions if ".ssm.core." in name else 1
            rows = member_index(tensor.shape[0], self.n_members, index, per)
            state[name] = tensor[rows.to(tensor.device)].clone()
        single.load_state_dict(state)
        return single.train(self.training)

    def initial_state(self, batch_size: int) -> dict:
        """Streaming state: every block's layer state and the running pooled statistics."""
        zeros = self.head.weight.new_zeros(batch_size, self.blocks[0].ssm.d_model)  # (B, K·H)
        state = {
            "blocks": [block.initial_state(batch_size) for block in self.blocks],
            "sum": zeros,
            "max": torch.full_like(zeros, float("-inf")),
            "count": 0,
        }
        if self.stem is not None:
            state["stem"] = self.stem.initial_state(batch_size)
        if self.stem_head is not None:  # the front end's running sum over the steps seen
            state["stem_sum"] = zeros.new_zeros(batch_size, self.n_members * self.stem.channels)
        return state

    def step(self, x_t: torch.Tensor, state: dict) -> tuple[torch.Tensor, dict]:
        """Feed one time step x_t (B, C); return the prediction for the prefix seen so far.

        With ``irregular``, x_t is (B, C + 1), the gap since the previous step last.
        After feeding a whole series, the output equals :meth:`forward` on it (eval mode).
        """
        x_t, gap = self.split_gaps(x_t[..., None])  # a series of one step
        x_t = self.member_inputs(x_t)[..., 0]  # (B, K·C)
        stem, new_state = None, {}
        if self.stem is not None:
            stem, new_state["stem"] = self.stem.step(x_t, state["stem"])
        h = self.encoder(self.encoder_inputs(x_t, stem))
        gap = None if gap is None else gap[:, 0]
        block_states = []
        for block, block_state in zip(self.blocks, state["blocks"], strict=True):
            h, block_state = block.step(h, block_state, gap)
            block_states.append(block_state)
        h = self.final_norm(h[..., None]).squeeze(-1)
        total, count = state["sum"] + h, state["count"] + 1
        largest = torch.maximum(state["max"], h)
        pooled = {"last": h, "mean": total / count, "max": largest}.get(self.pooling)
        if pooled is None:  # mean+max
            members = [p.unflatten(1, (self.n_members, -1)) for p in (total / count, largest)]
            pooled = torch.cat(members, dim=2).flatten(1)
        new_state.update(blocks=block_states, sum=total, max=largest, count=count)
        outputs = self.head_outputs(pooled)
        if self.stem_head is not None:
            new_state["stem_sum"] = state["stem_sum"] + stem
            outputs = self._with_stem_heads(outputs, new_state["stem_sum"] / count)
        return outputs, new_state
