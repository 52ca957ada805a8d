"""The interface every SSM core implements, the optimiser hint it attaches to parameters,
and the optimiser groups built from the hints.

A core holds ``channels`` independent single-input single-output linear state-space systems
(one per feature, and one per direction when bidirectional) and knows four ways to apply them:

- ``kernel(L, power)``: the convolution kernel ``K[m] = C Abar^m Bbar^{∘power}`` (real);
- ``liquid_gain(power)``: ``C Bbar^{∘power}`` (the kernel's first tap, i.e. ``Abar := I``);
- ``liquid_scan(u, v)`` (and ``liquid_layer_scan(u, D)``, the same with ``v = tanh(u)``
  and the skip): the liquid recurrence
  ``x_k = (Abar + diag(Bbar) v_k) x_{k-1} + Bbar u_k``, ``y_k = C x_k``;
- ``step(state, drive, v, power)``: one step of the same recurrence for streaming.

Irregular sampling (optional per core): with ``gaps`` of the time since the previous step,
step ``k`` is discretised with the step size ``dt * gaps[k]`` (``dt`` the channel's learned
step), a linear time-varying system. ``irregular_scan(drives, powers, gaps, v)`` runs it,
and ``liquid_gain(power, gaps)`` and ``step(..., gaps=...)`` take the per-step gaps too.

``Bbar^{∘q}`` is the element-wise power in the core's own state basis. The D skip, the
squashing of the liquid input and the lagged products of inputs live in the layer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

import torch
from torch import nn

from sslearn.nn.functional import lagged_product, product_term
from sslearn.nn.kernels.fftconv import causal_fft_conv

SSM_HINT = {"group": "ssm", "weight_decay": 0.0}


def register_ssm_parameter(module: nn.Module, name: str, value: torch.Tensor) -> nn.Parameter:
    """Register ``value`` as a parameter of the SSM optimiser group (own lr, no decay).

    The tag is kept on the module (``module._ssm_parameter_names``), not on the tensor, so it
    survives ``copy.deepcopy``, pickling and ``load_state_dict``.
    """
    param = nn.Parameter(value)
    module.register_parameter(name, param)
    names = module.__dict__.setdefault("_ssm_parameter_names", set())
    names.add(name)
    return param


def ssm_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The parameters registered with :func:`register_ssm_parameter` anywhere in ``model``."""
    found = []
    for module in model.modules():
        for name in sorted(getattr(module, "_ssm_parameter_names", ())):
            found.append(getattr(module, name))
    return found


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


class SSMCore(nn.Module):
    """Abstract base: ``channels`` SISO state-space systems of state size ``d_state``."""

    channels: int
    d_state: int
    _cache: dict | None = None

    @contextlib.contextmanager
    def reuse_discretization(self) -> Iterator[None]:
        """Inside this block, values computed through :meth:`_cached` are computed once.

        The layer wraps one forward pass (or one streaming step) in it, so the several
        kernels and gains of a liquid layer share one discretisation (and one autograd
        subgraph) instead of rebuilding it per use.
        """
        outer = self._cache
        self._cache = {} if outer is None else outer
        try:
            yield
        finally:
            self._cache = outer

    def _cached(self, key: str, compute: Callable[[], object]):
        if self._cache is None:
            return compute()
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def kernels(self, length: int, powers: Sequence[int]) -> torch.Tensor:
        """Stacked kernels of shape ``(len(powers), channels, length)``."""
        return torch.stack([self.kernel(length, power=q) for q in powers])

    def convolve(
        self,
        signals: torch.Tensor,
        powers: Sequence[int],
        skip: torch.Tensor,
        product: bool = False,
        lagged: bool = False,
    ) -> torch.Tensor:
        """``y = sum_q K_{powers[q]} * signals[:, q] + skip * signals[:, 0]`` (causal).

        ``signals`` has shape ``(B, Q, channels, L)``, ``skip`` shape ``(channels,)``. With
        ``product``, the degree-2 liquid PB term ``liquid_gain(2) u[t-1] tanh(u[t])`` of
        ``u = signals[:, 0]`` is added. With ``lagged``, ``signals`` holds ``u`` alone
        (Q = 1) and the second signal is the degree-2 lagged product ``u[t-1] tanh(u[t])``
        (the KB term; a core may form it without storing it). The default builds the
        kernels and convolves them by FFT, with the skip added to the first kernel's
        spectrum (no extra pass over the data); off CUDA the product term is added inside
        the same op (:func:`~sslearn.nn.kernels.fftconv.causal_fft_conv`).
        """
        if lagged:
            signals = torch.cat([signals, lagged_product(signals)], dim=1)
        gain = self.liquid_gain(2) if product else None
        kernels = self.kernels(signals.shape[-1], powers)  # (Q, channels, L)
        if not signals.is_cuda:
            return causal_fft_conv(signals, kernels, gain, skip=skip)
        y = causal_fft_conv(signals, kernels, skip=skip)
        return y if gain is None else y + product_term(signals[:, 0], gain)

    def discretize(self) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def kernel(self, length: int, power: int = 1) -> torch.Tensor:
        """Real kernel of shape ``(channels, length)``: ``K[m] = C Abar^m Bbar^{∘power}``."""
        raise NotImplementedError

    def liquid_gain(self, power: int, gaps: torch.Tensor | None = None) -> torch.Tensor:
        """Real gain of shape ``(channels,)``: ``C Bbar^{∘power}``.

        With ``gaps`` of shape ``(B, channels)`` or ``(B, channels, L)``, the gain of each
        step's own ``Bbar`` (step size ``dt * gaps``), of the shape of ``gaps``.
        """
        raise NotImplementedError

    def liquid_scan(self, u: torch.Tensor, v: torch.Tensor | None) -> torch.Tensor:
        """Run the recurrence over ``u`` of shape ``(B, channels, L)``; ``v=None`` is linear."""
        raise NotImplementedError

    def liquid_layer_scan(self, u: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        """The exact liquid layer: ``liquid_scan(u, tanh(u)) + skip u`` (skip of shape
        ``(channels,)``). A core may fuse the squashing and the skip into its scan."""
        return self.liquid_scan(u, torch.tanh(u)) + skip[:, None] * u

    def irregular_scan(
        self,
        drives: torch.Tensor,
        powers: Sequence[int],
        gaps: torch.Tensor,
        v: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The recurrence with a step size of its own per time step (irregular sampling).

        ``x_k = M_k x_{k-1} + sum_i Bbar_k^{∘powers[i]} drives[:, i, :, k]``, ``y_k = C x_k``
        with ``M_k = Abar_k`` (``v=None``) or ``Abar_k + diag(Bbar_k) v_k`` (the diagonal
        core caps its modulus at 1), where ``Abar_k``, ``Bbar_k`` discretise the continuous
        system with the step ``dt * gaps[:, :, k]``.

        Parameters
        ----------
        drives : tensor of shape (B, Q, channels, L)
        powers : sequence of Q ints
        gaps : tensor of shape (B, channels, L)
            Positive; 1 everywhere gives the regular-grid system.
        v : tensor of shape (B, channels, L), optional
            The liquid input of the transition.

        Returns
        -------
        y : tensor of shape (B, channels, L)
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement irregular sampling")

    def initial_state(self, batch_size: int) -> torch.Tensor:
        raise NotImplementedError

    def step(
        self,
        state: torch.Tensor,
        drive: torch.Tensor,
        v: torch.Tensor | None = None,
        power: int = 1,
        gaps: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step ``x <- (Abar + diag(Bbar) v) x + Bbar^{∘power} drive``; returns ``(C x, x)``.

        ``drive`` and ``v`` have shape ``(B, channels)``. Call inside ``torch.no_grad()`` or not;
        the discretisation is recomputed each call (cheap for diagonal cores). With ``gaps``
        ``(B, channels)`` the step is discretised with the step size ``dt * gaps``.
        """
        raise NotImplementedError
