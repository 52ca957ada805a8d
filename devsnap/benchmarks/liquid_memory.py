"""How far back does one layer remember? None against the exact liquid recurrence.

For inputs with a constant offset (as the encoder's bias gives every channel), perturb the
first half of a series and measure how much the layer's output over the last 50 steps
moves. A time-invariant SSM forgets at the rates of its modes; the exact liquid recurrence
``x_k = (Abar + diag(Bbar) tanh(u_k)) x_{k-1} + Bbar u_k`` turns slow modes into
integrators wherever ``tanh(u_k)`` cancels their decay (the multiplier is then capped at
modulus 1), so its memory reaches across the whole series. Freshly initialised layers,
CPU, a few seconds.

Run: ``python benchmarks/liquid_memory.py``.
"""

from __future__ import annotations

import torch

from sslearn.nn import LiquidSSM


def sensitivity(kernel, offset: float, length: int, channels: int = 16) -> tuple[float, float]:
    """(late output sd, mean |change| of the last 50 outputs after perturbing the first half)."""
    u = 0.3 * torch.randn(2, channels, length, generator=torch.Generator().manual_seed(0))
    u = u + offset
    torch.manual_seed(1)
    layer = LiquidSSM(channels, 64, liquid_kernel=kernel)
    perturbed = u.clone()
    perturbed[..., : length // 2] += 1.0
    with torch.no_grad():
        y, y_perturbed = layer(u), layer(perturbed)
    late = float(y[..., -100:].std())
    return late, float((y_perturbed - y)[..., -50:].abs().mean())


def main() -> None:
    print(
        "| input offset | length | kernel | late output sd | end's change after a first-half step |"
    )
    print("|---|---|---|---|---|")
    for offset in (0.0, 1.0, -1.0):
        for length in (200, 2000):
            for kernel in (None, "exact"):
                late, change = sensitivity(kernel, offset, length)
                print(f"| {offset:+.0f} | {length} | {kernel} | {late:.2f} | {change:.3f} |")


if __name__ == "__main__":
    main()
