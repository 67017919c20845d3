"""The project's shape, as docs/architecture.md states it: which folders may import which, one name
for one module or class, and the picker's pure core strictly typed."""

from __future__ import annotations

import ast
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("picker", "store", "harness", "bench")
BROWSER_MODULES = ("js", "pyodide", "pyscript")


def modules(*packages: str) -> dict[str, Path]:
    """Dotted module name -> file, for every module of `packages`."""
    found = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imported(name: str, path: Path) -> set[str]:
    """The modules a module imports, relative imports resolved."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            names.add(stem)
            # `from . import x` and `from .sources import computer` may name modules too.
            names.update(f"{stem}.{alias.name}" for alias in node.names)
    return names


def is_adapter(name: str) -> bool:
    """The picker's browser adapters: the web layer, the entry point and the sources' own modules
    (each draws its panel). Everything else in picker/ is the pure core."""
    return name.startswith("picker.web") or name == "picker.main" or (
        name.startswith("picker.sources.") and name != "picker.sources")


def pure_core() -> dict[str, Path]:
    return {name: path for name, path in modules("picker").items() if not is_adapter(name) and name != "picker"}


def test_the_pure_core_never_imports_the_browser() -> None:
    for name, path in pure_core().items():
        wrong = {i for i in imported(name, path) if i.split(".")[0] in BROWSER_MODULES or i.startswith("picker.web")}
        assert not wrong, f"{name} is in the pure core but imports {sorted(wrong)}"


def test_the_pure_core_is_strictly_typed() -> None:
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["overrides"]
    strict = {m for override in settings if override.get("disallow_untyped_defs") for m in override["module"]}
    missing = sorted(set(pure_core()) - strict)
    assert not missing, f"pure core modules missing from the strict mypy override in pyproject.toml: {missing}"


SHARED_WITH_THE_STORE = ("picker.wire", "picker.i18n")


def test_the_store_imports_of_the_picker_only_what_they_share() -> None:
    for name, path in modules("store").items():
        # `from picker import wire` names the package too: its __init__ holds nothing else.
        picker = {i for i in imported(name, path) if i.split(".")[0] == "picker"} - {"picker"}
        wrong = {i for i in picker if not i.startswith(SHARED_WITH_THE_STORE)}
        assert not wrong, f"{name} imports {sorted(wrong)}: the store shares only {SHARED_WITH_THE_STORE} with the picker"


def test_what_the_store_shares_with_the_picker_imports_nothing_else_of_it() -> None:
    for name in SHARED_WITH_THE_STORE:
        path = ROOT / (name.replace(".", "/") + ".py")
        inner = {i for i in imported(name, path) if i.split(".")[0] == "picker"} - {"picker"}
        assert inner <= set(SHARED_WITH_THE_STORE), f"{name} imports {sorted(inner)}"


def test_the_metadata_layer_does_not_import_the_storage_layer() -> None:
    layer = {n: p for n, p in modules("store").items() if n in ("store.records", "store.index", "store.sqlite_index")}
    assert layer, "store.records / store.index / store.sqlite_index not found"
    for name, path in layer.items():
        wrong = {i for i in imported(name, path) if i.startswith("store.backends")}
        assert not wrong, f"{name} imports {sorted(wrong)}"


def test_nothing_imports_from_a_test_module() -> None:
    users = modules("harness", "bench") | {f"tests.{p.stem}": p for p in (ROOT / "tests").glob("*.py")}
    for name, path in users.items():
        wrong = {i for i in imported(name, path) if i.startswith("tests.")}
        assert not wrong, f"{name} imports {sorted(wrong)}: shared helpers live in harness/"


def test_no_two_modules_share_a_name() -> None:
    stems = Counter(path.stem for path in modules(*PACKAGES).values() if path.stem not in ("__init__", "__main__"))
    assert [stem for stem, count in stems.items() if count > 1] == []


def test_no_two_classes_share_a_name() -> None:
    classes: Counter[str] = Counter()
    for path in modules(*PACKAGES).values():
        classes.update(node.name for node in ast.parse(path.read_text()).body if isinstance(node, ast.ClassDef))
    assert [name for name, count in classes.items() if count > 1] == []
