"""Griffe extension for the docs build (not part of the package).

Two docs-only fixes, applied to sslearn's docstrings as griffe loads them:

1. Class docstrings assembled at import time. The estimators build theirs from shared
   numpydoc sections (``__doc__ = "..." + DOC_PARAMETERS + ...`` in
   ``sslearn/_classifier.py`` and ``sslearn/_regressor.py``). Griffe reads the source
   statically and sees no docstring for these classes, so for every public sslearn class
   without one this extension imports the class and uses its runtime ``__doc__`` (the text
   ``help()`` shows). If the import fails it logs a warning, which fails
   ``mkdocs build --strict`` instead of publishing an empty page.
2. Sphinx roles. The docstrings use numpydoc/Sphinx cross-references such as
   ``:func:`~sslearn.data.to_panel```, which Markdown would show literally. They become
   mkdocs-autorefs links when the target is one of the objects on the API pages, and inline
   code otherwise (so no link can dangle).
3. Stated defaults. For a type written as a set of choices, ``name : {"pb", "kb", "exact"} or
   None, default="kb"``, griffe follows the numpydoc rule that the first choice is the
   default and ignores ``default=``: the API table would say ``"pb"``. Where the first choice
   is not the stated default, or no default is stated (a required parameter), the type is
   rewritten so that griffe reads ``default=`` or the signature (``None or {"pb", "kb",
   "exact"}``, ``one of {...}``, or the choices reordered with the default first).
   ``tests/test_docs.py`` compares the built API tables with ``get_params()``.
"""

from __future__ import annotations

import inspect
import logging
import re
import sys
from typing import Any

import griffe

# a logger under "mkdocs." so that its warnings count in `mkdocs build --strict`
logger = logging.getLogger("mkdocs.plugins.sslearn_runtime_docstrings")

# objects that have their own entry on the API pages: short name -> identifier
DOCUMENTED = {
    "LiquidS4Classifier": "sslearn.LiquidS4Classifier",
    "LiquidS4Regressor": "sslearn.LiquidS4Regressor",
    "LiquidSSM": "sslearn.nn.LiquidSSM",
    "LiquidS4Block": "sslearn.nn.LiquidS4Block",
    "LiquidS4Network": "sslearn.nn.LiquidS4Network",
    "param_groups": "sslearn.nn.param_groups",
    "Panel": "sslearn.data.Panel",
    "to_panel": "sslearn.data.to_panel",
    "ChannelScaler": "sslearn.data.ChannelScaler",
    "from_long": "sslearn.data.from_long",
    "long_targets": "sslearn.data.long_targets",
}

# "name : {choices}rest, default=value" in a numpydoc Parameters section
CHOICES = re.compile(
    r"^(?P<head>[ \t]*\w+(?:, \w+)* : )\{(?P<choices>[^{}]*)\}(?P<rest>[^\n]*?)"
    r"(?:,[ \t]+default=(?P<default>[^\n]+))?$",
    re.M,
)
ROLE = re.compile(r":(?:py:)?(?:func|class|meth|attr|mod|data|exc|obj):`(~?)([^`<>]+)`")


def _replace_role(match: re.Match) -> str:
    tilde, name = match.group(1), match.group(2).strip().lstrip(".")
    parts = name.split(".")
    display = parts[-1] if tilde else name
    target = None
    if len(parts) == 1 or parts[0] == "sslearn":
        target = DOCUMENTED.get(parts[-1])
        # a dotted sslearn path must name the documented object, not a namesake
        if target and len(parts) > 1 and not target.endswith("." + parts[-1]):
            target = None
    return f"[`{display}`][{target}]" if target else f"`{display}`"


def _stated_default_first(match: re.Match) -> str:
    choices = [
        " ".join(choice.replace("\\\n", " ").split()) for choice in match["choices"].split(",")
    ]
    default = (match["default"] or "").strip()
    if choices[0] == default:
        return match.group(0)
    rest = match["rest"].strip().lstrip(",").strip()
    rest = rest[3:] if rest.startswith("or ") else rest
    if not rest and default in choices:
        ordered = [default, *(choice for choice in choices if choice != default)]
        kind = "{" + ", ".join(ordered) + "}"
    else:  # not leading with "{": griffe reads default=, or else the signature's default
        kind = " or ".join(filter(None, [rest, "{" + ", ".join(choices) + "}"]))
        kind = kind if rest else f"one of {kind}"
    return f"{match['head']}{kind}" + (f", default={default}" if default else "")


def _walk(obj: griffe.Object):
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _walk(member)


class RuntimeDocstrings(griffe.Extension):
    """Runtime docstrings for classes without a static one; Sphinx roles to links."""

    def on_class_members(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        if cls.docstring is not None or cls.name.startswith("_"):
            return
        if not cls.path.startswith("sslearn.") or cls.is_private:
            return
        # the folder that holds the top-level package, so this works without installing
        root = cls.package.filepath.parent.parent
        try:
            runtime = griffe.dynamic_import(cls.path, [root, *sys.path])
        except ImportError as error:
            logger.warning("could not import %s to read its docstring: %s", cls.path, error)
            return
        doc = runtime.__dict__.get("__doc__")
        if isinstance(doc, str) and doc.strip():
            cls.docstring = griffe.Docstring(inspect.cleandoc(doc), lineno=cls.lineno, parent=cls)

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.name != "sslearn":
            return
        for obj in _walk(pkg):
            if obj.docstring is not None and ":" in obj.docstring.value:
                obj.docstring.value = ROLE.sub(_replace_role, obj.docstring.value)
                obj.docstring.value = CHOICES.sub(_stated_default_first, obj.docstring.value)
