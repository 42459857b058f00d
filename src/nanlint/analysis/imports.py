"""Imports: which qualified name each imported local name stands for.

A small table built from the import statements replaces libcst's QualifiedNameProvider
(about five times the cost of a parse) and also tells fixes how to spell a new name in the
file's own style.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst


def dotted_name(node: cst.BaseExpression) -> str | None:
    """`torch.nn.functional` for an Attribute chain of Names; None otherwise."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted_name(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def imported_qualname(imports: ImportTable, node: cst.BaseExpression) -> str | None:
    """The qualified name `node` spells through the file's imports (`F.softmax` with
    `import torch.nn.functional as F` -> `torch.nn.functional.softmax`); None otherwise."""
    dotted = dotted_name(node)
    if dotted is None:
        return None
    head, _, rest = dotted.partition(".")
    qualname = imports.qualname_of(head)
    if qualname is None:
        return None
    return f"{qualname}.{rest}" if rest else qualname


@dataclass(frozen=True)
class Binding:
    """`local` names `qualname`, bound by `statement`."""

    local: str
    qualname: str
    statement: cst.Import | cst.ImportFrom
    module_level: bool


def import_bindings(
    statement: cst.Import | cst.ImportFrom, package: str | None = None, module_level: bool = True
) -> list[Binding]:
    """The names an import statement binds. Relative imports resolve against `package`."""
    bindings: list[Binding] = []
    if isinstance(statement, cst.Import):
        for alias in statement.names:
            target = dotted_name(alias.name) or ""
            if alias.asname is not None:
                local = alias.asname.name.value  # type: ignore[union-attr]
                bindings.append(Binding(local, target, statement, module_level))
            else:
                head = target.split(".")[0]
                bindings.append(Binding(head, head, statement, module_level))
        return bindings
    module = _from_module(statement, package)
    if module is None or isinstance(statement.names, cst.ImportStar):
        return bindings
    for alias in statement.names:
        name = dotted_name(alias.name) or ""
        local = alias.asname.name.value if alias.asname else name  # type: ignore[union-attr]
        bindings.append(Binding(local, f"{module}.{name}", statement, module_level))
    return bindings


def star_module(statement: cst.ImportFrom, package: str | None = None) -> str | None:
    """The module of `from M import *`, else None."""
    if isinstance(statement.names, cst.ImportStar):
        return _from_module(statement, package)
    return None


def _from_module(statement: cst.ImportFrom, package: str | None) -> str | None:
    module = dotted_name(statement.module) if statement.module is not None else ""
    level = len(statement.relative)
    if level == 0:
        return module
    if package is None:
        # A relative import of an unknown package: a name that can never be torch's.
        return "." * level + (module or "")
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, module] if module else base) or None


class ImportTable:
    """The module-level import bindings of one file, in statement order."""

    def __init__(self, bindings: list[Binding], star_modules: list[str]):
        self.bindings = bindings
        self.star_modules = star_modules
        self._by_local = {binding.local: binding for binding in bindings}

    @classmethod
    def of_module(cls, module: cst.Module, package: str | None = None) -> ImportTable:
        bindings: list[Binding] = []
        stars: list[str] = []
        for statement in module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, (cst.Import, cst.ImportFrom)):
                    bindings.extend(import_bindings(small, package))
                    if isinstance(small, cst.ImportFrom):
                        star = star_module(small, package)
                        if star:
                            stars.append(star)
        return cls(bindings, stars)

    def qualname_of(self, local: str) -> str | None:
        binding = self._by_local.get(local)
        return binding.qualname if binding else None

    def spelling(self, qualname: str, shadowed: frozenset[str] = frozenset()) -> str | None:
        """The shortest expression naming `qualname` with the file's existing imports.

        `torch.nn.functional.binary_cross_entropy_with_logits` is `F.binary_cross_entropy_with_logits`
        in a file that imports `torch.nn.functional as F`, `torch.nn.functional....` in a file
        that imports only `torch`, and None when nothing imported reaches it.
        """
        best: str | None = None
        for binding in self.bindings:
            if binding.local in shadowed:
                continue
            if qualname == binding.qualname:
                candidate = binding.local
            elif qualname.startswith(binding.qualname + "."):
                candidate = binding.local + qualname[len(binding.qualname) :]
            else:
                continue
            if best is None or len(candidate) < len(best):
                best = candidate
        return best

    def binding_of(self, local: str) -> Binding | None:
        return self._by_local.get(local)
