"""The layering rule of docs/architecture.md, checked on the source: adapters (cli/, api/, importers/) go through
the service layer. They import neither the store nor SQLAlchemy nor Alembic, and never reach for the context's
`.store`. The checker reads the syntax tree, so a lazy import inside a function counts as much as one at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ADAPTERS = ("classic2arm.cli", "classic2arm.api", "classic2arm.importers")
FORBIDDEN = ("classic2arm.store", "sqlalchemy", "alembic")


def _forbidden(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN)


def _absolute(node: ast.ImportFrom, package: str) -> str:
    """The module an ImportFrom names, with relative imports resolved against `package`."""
    if node.level == 0:
        return node.module or ""
    parts = package.split(".")
    base = parts[:len(parts) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """What in `source` (the text of module `module`) breaks the adapters' layering rule, one line per finding."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        where = f"{module}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            found += [f"{where}: imports {a.name}" for a in node.names if _forbidden(a.name)]
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(node, package)
            if _forbidden(target):
                found.append(f"{where}: imports from {target}")
            else:
                found += [f"{where}: imports {target}.{a.name}" for a in node.names
                          if _forbidden(f"{target}.{a.name}")]
        elif isinstance(node, ast.Attribute) and node.attr == "store":
            found.append(f"{where}: uses .store")
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            consts = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if name == "getattr" and "store" in consts:
                found.append(f"{where}: uses .store through getattr")
            elif name in ("import_module", "__import__") and consts and isinstance(consts[0], str) \
                    and _forbidden(consts[0]):
                found.append(f"{where}: imports {consts[0]} dynamically")
    return found


def _adapter_modules() -> list[tuple[Path, str]]:
    out = []
    for pkg in ADAPTERS:
        folder = SRC.joinpath(*pkg.split("."))
        for path in sorted(folder.rglob("*.py")):
            rel = path.relative_to(SRC).with_suffix("")
            out.append((path, ".".join(rel.parts)))
    return out


def test_adapters_exist() -> None:
    modules = {m for _, m in _adapter_modules()}
    assert {"classic2arm.cli.main", "classic2arm.api.asm.reads", "classic2arm.importers.detect"} <= modules


def test_adapters_go_through_the_service_layer() -> None:
    found = [v for path, module in _adapter_modules()
             for v in violations(path.read_text(), module.removesuffix(".__init__"), path.name == "__init__.py")]
    assert found == []


BAD = [
    ("import sqlalchemy", "imports sqlalchemy"),
    ("import sqlalchemy.exc as e", "imports sqlalchemy.exc"),
    ("from sqlalchemy.engine import make_url", "imports from sqlalchemy.engine"),
    ("import alembic.command", "imports alembic.command"),
    ("from classic2arm.store import Tx", "imports from classic2arm.store"),
    ("from ...store import Row", "imports from classic2arm.store"),
    ("from ... import store", "imports classic2arm.store"),
    ("from ...store.schema import credentials", "imports from classic2arm.store.schema"),
    ("def f():\n    from sqlalchemy import select\n", "imports from sqlalchemy"),
    ("def f(req):\n    with req.ctx.store.read() as tx:\n        return tx\n", "uses .store"),
    ("def f(ctx):\n    return getattr(ctx, 'store')\n", "uses .store through getattr"),
    ("import importlib\nimportlib.import_module('alembic')\n", "imports alembic dynamically"),
]


@pytest.mark.parametrize(("source", "finding"), BAD)
def test_the_checker_finds_a_breach(source: str, finding: str) -> None:
    found = violations(source, "classic2arm.api.asm.bad")
    assert len(found) == 1 and found[0].endswith(finding), found


GOOD = [
    "from ...service import classic_reads",
    "from ...service.context import AppContext",
    "from ..importers import detect",
    "import classic2arm.service.store_helpers_are_not_the_store",  # a name that merely starts alike
    "from ...storefront import x",
    "def f(ctx):\n    return ctx.subscription\n",
]


@pytest.mark.parametrize("source", GOOD)
def test_the_checker_lets_service_calls_through(source: str) -> None:
    assert violations(source, "classic2arm.api.asm.good") == []


def test_relative_imports_resolve_from_the_importing_package() -> None:
    finding = ["classic2arm.api:1: imports from classic2arm.store"]
    assert violations("from ..store import Tx", "classic2arm.api", is_package=True) == finding
    assert violations("from .store import Tx", "classic2arm.api", is_package=True) == []  # classic2arm.api.store
    assert violations("from ..store import Tx", "classic2arm.api.server") == \
        ["classic2arm.api.server:1: imports from classic2arm.store"]
    assert violations("from .store import Tx", "classic2arm.api.server") == []
