"""The floors of the house (docs/architecture.md): what may import what inside ``sslearn``.

Every ``import`` and ``from ... import`` of an ``sslearn`` module is read from the source
with ``ast`` (lazy imports inside functions included), and each edge is checked against the
table of allowed floors.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sslearn

PACKAGE = Path(sslearn.__file__).parent

# a module's floor: the first rule whose prefix matches its dotted name
FLOORS = (
    ("sslearn.nn", "nn"),
    ("sslearn.data", "data"),
    ("sslearn.training", "training"),
    ("sslearn.datasets", "datasets"),
    ("sslearn.cli", "cli"),
    ("sslearn.__main__", "cli"),
    ("sslearn.sktime", "adapters"),
    ("sslearn.plot", "adapters"),
    ("sslearn", "estimators"),  # _base, _classifier, _regressor, _persist, _stream, ...
)

# what each floor may import (besides itself)
ALLOWED = {
    "nn": set(),
    "data": set(),
    "training": {"nn"},
    "estimators": {"nn", "data", "training"},
    "adapters": {"nn", "estimators"},
    "datasets": {"data", "estimators"},
    "cli": {"data", "estimators", "datasets"},
}


def floor(module: str) -> str:
    for prefix, name in FLOORS:
        if module == prefix or module.startswith(prefix + "."):
            return name
    raise AssertionError(f"no floor for {module}")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """The sslearn modules a file imports, relative imports resolved."""
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("sslearn")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name.startswith("sslearn"):
                found.add(name)
    return found


def edges() -> list[tuple[str, str]]:
    return [
        (module_name(path), target)
        for path in sorted(PACKAGE.rglob("*.py"))
        for target in sorted(imported(path))
    ]


def test_every_module_has_a_floor():
    assert {floor(source) for source, _ in edges()} <= set(ALLOWED)


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_floor_imports_only_what_it_may(name):
    bad = [
        f"{source} -> {target}"
        for source, target in edges()
        if floor(source) == name
        and target != "sslearn"  # the package root re-exports the estimators
        and floor(target) not in ALLOWED[name] | {name}
    ]
    if name in ("nn", "data", "training"):  # lower floors may not even use the root
        bad += [f"{s} -> sslearn" for s, t in edges() if floor(s) == name and t == "sslearn"]
    assert not bad, f"upward or sideways imports from the {name} floor: {bad}"


def test_the_checker_sees_an_upward_import(tmp_path):
    source = tmp_path / "sslearn" / "nn" / "bad.py"
    source.parent.mkdir(parents=True)
    source.write_text("from sslearn.training import train\nfrom ..data import Panel\n")
    global PACKAGE
    saved, PACKAGE = PACKAGE, tmp_path / "sslearn"
    try:
        assert imported(source) == {"sslearn.training", "sslearn.data"}
        assert floor("sslearn.training") not in ALLOWED[floor(module_name(source))]
    finally:
        PACKAGE = saved
