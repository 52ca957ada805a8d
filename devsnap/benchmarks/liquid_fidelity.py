"""How close each liquid kernel comes to the exact liquid recurrence (CPU, float64).

For one set of layer parameters and random inputs, prints the relative distance of the
None / "pb" / "kb" outputs to the "exact" output, the cosine between each kernel's liquid
part and the exact liquid part, and a causality probe (changing the last input must leave
every earlier output unchanged). Run: ``python benchmarks/liquid_fidelity.py``.
"""

from __future__ import annotations

import torch

from sslearn.nn import LiquidSSM


def build(mode, degree, state):
    layer = LiquidSSM(4, 8, liquid_kernel=mode, liquid_degree=degree, init="lin",
                      disc="bilinear", dt_min=0.05, dt_max=0.5).double()  # fmt: skip
    layer.load_state_dict(state)
    return layer


def main(u_std: float = 0.2, length: int = 64) -> None:
    torch.manual_seed(0)
    reference = LiquidSSM(4, 8, liquid_kernel="exact", init="lin", disc="bilinear",
                          dt_min=0.05, dt_max=0.5).double()  # fmt: skip
    state = reference.state_dict()
    u = u_std * torch.randn(3, 4, length, dtype=torch.float64)
    with torch.no_grad():
        exact = reference(u)
        linear = build(None, 2, state)(u)
        print(f"H=4, N=8, L={length}, u ~ N(0, {u_std}^2), S4D-Lin init, bilinear")
        print(f"{'kernel':<10} {'rel. distance to exact':>24} {'cos(liquid part)':>18}")
        true_liquid = exact - linear
        for mode, degree in [(None, 2), ("pb", 2), ("pb", 3), ("kb", 2), ("kb", 3)]:
            out = build(mode, degree, state)(u)
            rel = float((out - exact).norm() / exact.norm())
            part = (out - linear).flatten()
            cos = float(part @ true_liquid.flatten() / (part.norm() * true_liquid.norm() + 1e-300))
            name = f"{mode}" if mode is None else f"{mode} p={degree}"
            print(f"{name:<10} {rel:>24.3e} {cos if mode else float('nan'):>18.3f}")
        probe = u.clone()
        probe[..., -1] += 1.0
        for mode in (None, "pb", "kb", "exact"):
            layer = build(mode, 2, state)
            change = (layer(probe) - layer(u))[..., :-1].abs().max()
            print(f"causality probe {mode}: max |change| of y[:L-1] = {float(change):.1e}")


if __name__ == "__main__":
    main()
