"""``LiquidSSM``: one Liquid-S4 state-space layer, mapping (B, H, L) to (B, H, L)."""

from __future__ import annotations

import torch
from torch import nn

from sslearn.nn.cores import SSMCore
from sslearn.nn.cores.diagonal import DISCRETIZATIONS as DIAGONAL_DISCRETIZATIONS
from sslearn.nn.cores.diagonal import INITS as DIAGONAL_INITS
from sslearn.nn.functional import (
    MEASURES,
    lagged_products,
    length_mask,
    reverse_gaps,
    reverse_within_lengths,
)

SSMS = ("diag", "dplr", "lssl")
LIQUID_KERNELS = (None, "kb", "pb", "exact")
# each core defines what it accepts; these collect them for the layer's checks
INITS = {"diag": DIAGONAL_INITS, "dplr": ("legs",), "lssl": MEASURES}
DISCRETIZATIONS = DIAGONAL_DISCRETIZATIONS  # zoh and bilinear; dplr takes bilinear only
DEFAULT_DISC = {"diag": "zoh", "dplr": "bilinear", "lssl": "zoh"}


def make_core(
    ssm: str, channels: int, d_state: int, *, init: str, disc: str, dt_min: float, dt_max: float
) -> SSMCore:
    """Build the SSM core named ``ssm`` (see :class:`LiquidSSM`)."""
    if ssm == "diag":
        from sslearn.nn.cores.diagonal import DiagonalSSM

        return DiagonalSSM(channels, d_state, init=init, disc=disc, dt_min=dt_min, dt_max=dt_max)
    if ssm == "dplr":
        from sslearn.nn.cores.dplr import DPLRSSM

        return DPLRSSM(channels, d_state, disc=disc, dt_min=dt_min, dt_max=dt_max)
    from sslearn.nn.cores.lssl import LSSLCore

    return LSSLCore(channels, d_state, measure=init, disc=disc, dt_min=dt_min, dt_max=dt_max)


def check_layer_arguments(
    d_model, d_state, ssm, liquid_kernel, liquid_degree, init, disc, dt_min, dt_max
) -> None:
    """Raise ``ValueError``/``TypeError`` naming the bad argument and the accepted values."""
    for name, value in (("d_model", d_model), ("d_state", d_state)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if d_state % 2:
        raise ValueError(f"d_state must be even (conjugate pairs of modes), got {d_state}")
    if ssm not in SSMS:
        raise ValueError(f"unknown ssm {ssm!r}; use one of {SSMS}")
    if liquid_kernel not in LIQUID_KERNELS:
        raise ValueError(f"unknown liquid_kernel {liquid_kernel!r}; use one of {LIQUID_KERNELS}")
    if not isinstance(liquid_degree, int) or isinstance(liquid_degree, bool) or liquid_degree < 2:
        raise ValueError(f"liquid_degree must be an integer >= 2, got {liquid_degree!r}")
    if init not in INITS[ssm]:
        raise ValueError(f"init {init!r} is not available for ssm={ssm!r}; use one of {INITS[ssm]}")
    if disc not in DISCRETIZATIONS:
        raise ValueError(f"unknown disc {disc!r}; use one of {DISCRETIZATIONS}")
    if ssm == "dplr" and disc == "zoh":
        raise ValueError(
            "disc='zoh' has no DPLR structure (the Cauchy kernel needs the bilinear map); "
            "use disc='bilinear' with ssm='dplr', or ssm='diag'/'lssl' for zoh"
        )
    if not 0 < dt_min <= dt_max:
        raise ValueError(f"need 0 < dt_min <= dt_max, got dt_min={dt_min}, dt_max={dt_max}")


class LiquidSSM(nn.Module):
    """Liquid-S4 layer: a linear SSM per channel plus the liquid (input-dependent) term.

    Each of the ``d_model`` channels is a single-input single-output system discretised as
    ``x_k = (Abar + diag(Bbar) v_k) x_{k-1} + Bbar u_k``, ``y_k = C x_k + D u_k`` with the
    liquid input ``v_k = tanh(u_k)`` (squashed so the transition stays bounded).

    Parameters
    ----------
    d_model : int
        Number of channels H.
    d_state : int, default=64
        State size N per channel (even).
    ssm : {"diag", "dplr", "lssl"}, default="diag"
        ``"diag"``: S4D (diagonal complex A); ``"dplr"``: S4's HiPPO-LegS normal-plus-low-rank
        A with the Cauchy/Woodbury kernel; ``"lssl"``: LSSL's dense, learnable HiPPO A with a
        Krylov kernel.
    liquid_kernel : {"kb", "pb", "exact"} or None, default="kb"
        ``None``: plain S4 convolution. ``"exact"``: the liquid recurrence itself (every input
        product). ``"kb"``: convolution plus ``sum_q K_q * ucorr_q`` with
        ``K_q[m] = C Abar^m Bbar^q`` over products of ``q`` consecutive inputs. ``"pb"``: the
        same with ``Abar := I`` in the liquid part (pointwise). All are causal and trainable.
    liquid_degree : int, default=2
        Highest input degree ``p`` of the ``"kb"``/``"pb"`` terms (``q = 2..p``).
    init : str, default="legs"
        ``"diag"``: ``legs``, ``lin``, ``inv``, ``real``; ``"dplr"``: ``legs``;
        ``"lssl"``: the HiPPO measure ``legs``, ``legt`` or ``lagt``.
    disc : "zoh", "bilinear" or None, default=None
        Discretisation; None picks ``"zoh"`` for ``diag``/``lssl`` and ``"bilinear"`` for
        ``dplr`` (the only one with a DPLR structure).
    dt_min, dt_max : float, default=1e-3, 1e-1
        Range of the log-uniform initial step sizes.
    bidirectional : bool, default=False
        Add a second system per channel that runs backwards from each series' true end.

    Notes
    -----
    Irregular sampling: ``forward(u, gaps=...)`` and ``step(u_t, state, gap=...)`` give each
    step its own step size ``dt * gap`` (the liquid terms follow, see
    :meth:`_causal_irregular`). The diagonal core runs it as a parallel scan
    (:mod:`sslearn.nn.kernels.ltv_scan`); the dense cores (``"dplr"``, ``"lssl"``) as a
    loop with a dense solve or matrix exponential per step: correct, but slow.

    Examples
    --------
    >>> import torch
    >>> layer = LiquidSSM(4, 8, liquid_kernel="pb")
    >>> layer(torch.randn(2, 4, 16)).shape
    torch.Size([2, 4, 16])
    """

    def __init__(
        self,
        d_model: int,
        d_state: int = 64,
        *,
        ssm: str = "diag",
        liquid_kernel: str | None = "kb",
        liquid_degree: int = 2,
        init: str = "legs",
        disc: str | None = None,
        dt_min: float = 1e-3,
        dt_max: float = 1e-1,
        bidirectional: bool = False,
    ) -> None:
        super().__init__()
        disc = DEFAULT_DISC.get(ssm, "zoh") if disc is None else disc
        check_layer_arguments(
            d_model, d_state, ssm, liquid_kernel, liquid_degree, init, disc, dt_min, dt_max
        )
        self.d_model, self.d_state = d_model, d_state
        self.ssm, self.liquid_kernel, self.liquid_degree = ssm, liquid_kernel, liquid_degree
        self.bidirectional = bidirectional
        channels = d_model * (2 if bidirectional else 1)
        self.core = make_core(
            ssm, channels, d_state, init=init, disc=disc, dt_min=dt_min, dt_max=dt_max
        )
        self.D = nn.Parameter(torch.randn(d_model))

    def extra_repr(self) -> str:
        return (
            f"d_model={self.d_model}, d_state={self.d_state}, ssm={self.ssm!r}, "
            f"liquid_kernel={self.liquid_kernel!r}, liquid_degree={self.liquid_degree}, "
            f"bidirectional={self.bidirectional}"
        )

    @property
    def degrees(self) -> range:
        """Input degrees of the ``"kb"``/``"pb"`` liquid terms."""
        return range(2, self.liquid_degree + 1)

    def discretize(self) -> dict[str, torch.Tensor]:
        """Discretised system: the core's ``Abar``, ``Bbar``, ``C`` and the skip ``D`` (H,).

        For ``ssm="diag"`` ``Abar``, ``Bbar``, ``C`` are complex of shape (H', N/2) with
        ``y_k = 2 Re sum_n C_n x_k[n] + D u_k``; H' = 2H when bidirectional (the second half
        runs backwards). Dense cores return full-state matrices (see their docstrings).
        """
        return {**self.core.discretize(), "D": self.D}

    # -- convolutional / scan form ------------------------------------------------------
    def _causal(self, u: torch.Tensor, gaps: torch.Tensor | None = None) -> torch.Tensor:
        """Causal liquid SSM with the D skip for u of shape (B, H', L) on all core channels
        (with per-channel ``gaps`` (B, H', L): :meth:`_causal_irregular`).

        In the convolutional modes the core applies D together with the kernel
        (:meth:`SSMCore.convolve`), which saves a pass over the data.
        """
        if gaps is not None:
            return self._causal_irregular(u, gaps)
        if self.liquid_kernel == "exact":
            return self.core.liquid_layer_scan(u, self._skip())
        kb = self.liquid_kernel == "kb"
        powers = [1, *self.degrees] if kb else [1]
        lagged = kb and self.liquid_degree == 2  # the core forms the one product itself
        signals = [u]
        if kb and not lagged:
            v = torch.tanh(u)
            signals += [lagged_products(u, v, q) for q in self.degrees]
        pb = self.liquid_kernel == "pb"  # the core adds the degree-2 term in the same pass
        stacked = u[:, None] if len(signals) == 1 else torch.stack(signals, dim=1)
        y = self.core.convolve(stacked, powers, self._skip(), pb, lagged)
        if pb and self.liquid_degree > 2:
            v = torch.tanh(u)
            for q in self.degrees[1:]:
                y = y + self.core.liquid_gain(q)[:, None] * lagged_products(u, v, q)
        return y

    def forward(
        self,
        u: torch.Tensor,
        lengths: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        gaps: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Apply the layer.

        Parameters
        ----------
        u : tensor of shape (B, H, L)
        lengths : int tensor of shape (B,), optional
            True length of each series; steps at and after it are padding. Outputs there are 0
            and outputs before it equal those of the unpadded series.
        mask : bool tensor of shape (B, L), optional
            Alternative to ``lengths``: True at valid steps (left-aligned).
        gaps : tensor of shape (B, L), optional
            Irregular sampling: the time since the previous observation, in model units
            (``gaps[:, 0] = 1`` by convention; all ones is the regular grid). Step ``k`` is
            discretised with the step size ``dt * gaps[:, k]``, ``dt`` each channel's
            learned step: a linear time-varying system (see :meth:`_causal_irregular`).
            Values at padding steps are ignored. None runs the time-invariant layer.

        Returns
        -------
        y : tensor of shape (B, H, L), float32 (the SSM runs in float32 under autocast)
        """
        if mask is not None and lengths is None:
            lengths = mask.sum(-1)
        if gaps is not None and gaps.shape != (u.shape[0], u.shape[-1]):
            raise ValueError(
                f"gaps must have shape (batch, length) = {(u.shape[0], u.shape[-1])}, "
                f"got {tuple(gaps.shape)}"
            )
        with torch.autocast(device_type=u.device.type, enabled=False):
            dtype = torch.float64 if self.D.dtype == torch.float64 else torch.float32
            u = u.to(dtype)
            with self.core.reuse_discretization():
                return self._forward(u, lengths, None if gaps is None else gaps.to(dtype))

    def _forward(
        self, u: torch.Tensor, lengths: torch.Tensor | None, gaps: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Mask the padding, run :meth:`_causal` (both directions when bidirectional).

        With per-step ``gaps`` (B, L) the layer is the time-varying generalisation (see
        :meth:`_causal_irregular`); the backward direction of a bidirectional layer runs
        over the reversed series with the gaps of :func:`reverse_gaps`.
        """
        valid = None
        if lengths is not None:
            valid = length_mask(lengths, u.shape[-1])[:, None, :]  # (B, 1, L)
            u = u * valid
            if gaps is not None:  # padding: NaN-safe
                gaps = torch.where(valid[:, 0], gaps, torch.ones_like(gaps))
        if self.bidirectional:
            both = torch.cat([u, reverse_within_lengths(u, lengths)], dim=1)  # (B, 2H, L)
            both_gaps = None
            if gaps is not None:
                backward = reverse_gaps(gaps, lengths)  # (B, L)
                both_gaps = torch.cat(
                    [gaps[:, None, :].expand_as(u), backward[:, None, :].expand_as(u)], dim=1
                )  # (B, 2H, L)
            y_both = self._causal(both, both_gaps)
            y = y_both[:, : self.d_model] + reverse_within_lengths(
                y_both[:, self.d_model :], lengths
            )
        else:
            y = self._causal(u, None if gaps is None else gaps[:, None, :].expand_as(u))
        return y if valid is None else y * valid

    def _causal_irregular(self, u: torch.Tensor, gaps: torch.Tensor) -> torch.Tensor:
        """:meth:`_causal` with per-channel gaps (B, H', L): the time-varying layer.

        Step ``k`` uses ``Abar_k``, ``Bbar_k`` of the step ``dt * gaps[..., k]`` (the core's
        own ``disc``): ``None`` is ``x_k = Abar_k x_{k-1} + Bbar_k u_k``; ``"exact"`` has the
        transition ``cap(Abar_k + Bbar_k v_k)``; ``"kb"`` drives the same system with
        ``Bbar_k^q`` times each degree-``q`` input product; ``"pb"`` adds the products
        times the per-step gain ``C Bbar_k^q``.
        """
        v = torch.tanh(u)
        drives, powers = [u], [1]
        if self.liquid_kernel == "kb":
            drives += [lagged_products(u, v, q) for q in self.degrees]
            powers += list(self.degrees)
        exact = v if self.liquid_kernel == "exact" else None
        y = self.core.irregular_scan(torch.stack(drives, dim=1), powers, gaps, exact)
        if self.liquid_kernel == "pb":
            for q in self.degrees:
                y = y + self.core.liquid_gain(q, gaps) * lagged_products(u, v, q)
        return y + self._skip()[:, None] * u

    def _skip(self) -> torch.Tensor:
        """D per core channel: the backward direction of a bidirectional layer has none."""
        if not self.bidirectional:
            return self.D
        return torch.cat([self.D, torch.zeros_like(self.D)])

    # -- recurrent form -----------------------------------------------------------------
    def initial_state(self, batch_size: int) -> dict[str, torch.Tensor | list[torch.Tensor]]:
        """Zero state for :meth:`step`: the core state, the KB states and the input window."""
        if self.bidirectional:
            raise ValueError(
                "a bidirectional layer looks at future inputs and cannot be stepped; "
                "use bidirectional=False for streaming"
            )
        window = self.D.new_zeros(batch_size, self.d_model, self.liquid_degree - 1)
        state = {"x": self.core.initial_state(batch_size), "u": window, "v": window.clone()}
        if self.liquid_kernel == "kb":
            state["x_liquid"] = [self.core.initial_state(batch_size) for _ in self.degrees]
        return state

    def step(
        self, u_t: torch.Tensor, state: dict, gap: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict]:
        """One streaming step: ``u_t`` of shape (B, H) -> ``(y_t (B, H), new state)``.

        ``gap`` (B,) is the time since the previous step (irregular sampling, as the
        ``gaps`` of :meth:`forward`); None is the regular grid. Iterating ``step`` over
        ``t`` from :meth:`initial_state` equals :meth:`forward`.
        """
        if self.bidirectional:
            self.initial_state(0)  # raises the explanatory error
        with self.core.reuse_discretization():
            return self._step(u_t, state, gap)

    def _step(
        self, u_t: torch.Tensor, state: dict, gap: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict]:
        v_t = torch.tanh(u_t)
        exact = self.liquid_kernel == "exact"
        # one (B, H) gaps tensor for all the core's calls of this step (it caches by it)
        extra = {} if gap is None else {"gaps": gap.to(u_t.dtype)[:, None].expand_as(u_t)}
        y, x = self.core.step(state["x"], u_t, v_t if exact else None, **extra)
        new_state = {"x": x}
        past_u, past_v = state["u"], state["v"]  # [..., j] holds step t-1-j
        if self.liquid_kernel in ("kb", "pb"):
            new_liquid = []
            for i, q in enumerate(self.degrees):
                product = past_u[..., q - 2] * v_t
                for lag in range(q - 2):
                    product = product * past_v[..., lag]
                if self.liquid_kernel == "kb":
                    y_q, x_q = self.core.step(state["x_liquid"][i], product, power=q, **extra)
                    new_liquid.append(x_q)
                    y = y + y_q
                else:
                    y = y + self.core.liquid_gain(q, **extra) * product
            if new_liquid:
                new_state["x_liquid"] = new_liquid
        new_state["u"] = torch.cat([u_t[..., None], past_u[..., :-1]], dim=-1)
        new_state["v"] = torch.cat([v_t[..., None], past_v[..., :-1]], dim=-1)
        return y + self.D * u_t, new_state
