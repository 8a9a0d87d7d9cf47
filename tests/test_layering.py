"""The import layering of src/tepat (issue 21), read from the code's AST, so it cannot regress.

Each app sits in a layer (LAYERS) and a module imports only from its own app or from apps in
lower layers; apps in one layer do not import each other. The "never" rules repeat the edges
that must not exist with their own names, so a failure says which promise broke. Every import
counts: module-level, inside a function (the lazy imports of management commands and services)
and under TYPE_CHECKING. Migrations are skipped (Django writes them, and they name other apps'
migrations as dependencies, not imports). Imports by dotted string (import_string, the privacy
declarations) are not seen here.

To check another tree (an older commit unpacked with `git archive`), call
`violations(Path(".../src/tepat"))`: every rule below is a function of the root it reads.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "tepat"

# The package's own modules (cli.py, __main__.py) are the command-line entry point: above all.
ENTRY_POINT = "tepat"

LAYERS: dict[str, int] = {
    "core": 0,  # the shared kernel: imports no tepat app
    "regions": 1,
    "messaging": 1,
    "ledger": 1,  # generic: the apps that write entries register their kinds
    "accounts": 2,
    "registry": 3,
    "integration": 4,
    "targeting": 5,
    "programs": 6,
    "payments": 7,
    "verification": 8,
    "privacy": 9,  # apps declare their own export sections
    "grievances": 10,
    "portal": 11,  # page apps: they do not import each other
    "transparency": 11,
    "monitoring": 11,
    "synth": 12,  # no production app imports it
    "demo": 13,  # `tepat demo`, a whole-system command
    "config": 13,  # the project: settings, urls, the NinjaAPI
    ENTRY_POINT: 14,
}
PAGE_APPS = frozenset({"portal", "transparency", "monitoring"})
NOT_PRODUCTION = frozenset({"synth", "demo"})
DOMAIN_APPS = frozenset(app for app, layer in LAYERS.items() if layer < LAYERS["portal"])


@dataclass(frozen=True)
class Import:
    file: str  # relative to src/tepat
    line: int
    app: str  # the importing module's app
    target: str  # the module imported from, absolute ("tepat.payments.models")
    target_app: str  # the tepat app it belongs to
    names: tuple[str, ...]  # `from target import names`; empty for `import target`

    def says(self, rule: str) -> str:
        return f"{self.file}:{self.line} imports {self.target} ({rule})"


def _app_of(rel: Path) -> str:
    return rel.parts[0] if len(rel.parts) > 1 else ENTRY_POINT


def _module_of(rel: Path) -> list[str]:
    parts = list(rel.with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _absolute(node: ast.ImportFrom, rel: Path) -> str:
    if not node.level:
        return node.module or ""
    package = ["tepat", *_module_of(rel)]
    if rel.name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _tepat_app(module: str, root: Path) -> str | None:
    parts = module.split(".")
    if parts[0] != "tepat":
        return None
    if len(parts) == 1:
        return ENTRY_POINT
    return parts[1] if (root / parts[1]).is_dir() else ENTRY_POINT


def _sources(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if "migrations" in rel.parts or "__pycache__" in rel.parts:
            continue
        yield path


@cache
def imports(root: Path = SRC) -> tuple[Import, ...]:
    """Every import of a tepat module by a module under `root`, wherever in the file it is."""
    found: list[Import] = []
    for path in _sources(root):
        rel = path.relative_to(root)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            pairs: list[tuple[str, tuple[str, ...]]]
            if isinstance(node, ast.Import):
                pairs = [(alias.name, ()) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                module = _absolute(node, rel)
                if module == "tepat":  # `from tepat import payments`: the names are the apps
                    pairs = [(f"tepat.{alias.name}", ()) for alias in node.names]
                else:
                    pairs = [(module, tuple(alias.name for alias in node.names))]
            else:
                continue
            for target, names in pairs:
                target_app = _tepat_app(target, root)
                if target_app is not None:
                    found.append(
                        Import(str(rel), node.lineno, _app_of(rel), target, target_app, names)
                    )
    return tuple(sorted(found, key=lambda i: (i.file, i.line, i.target)))


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def layer_violations(root: Path = SRC) -> list[str]:
    out = []
    for i in imports(root):
        if i.target_app == i.app or i.app not in LAYERS or i.target_app not in LAYERS:
            continue  # an app without a layer fails its own test
        mine, theirs = LAYERS[i.app], LAYERS[i.target_app]
        if theirs >= mine:
            where = "the same layer" if theirs == mine else "a higher layer"
            out.append(i.says(f"{i.app} (L{mine}) imports {i.target_app} (L{theirs}), {where}"))
    return out


def _never(root: Path, rule: str, forbidden: Callable[[Import], bool]) -> list[str]:
    return [i.says(rule) for i in imports(root) if i.target_app != i.app and forbidden(i)]


def programs_payments_violations(root: Path = SRC) -> list[str]:
    return _never(
        root,
        "programs never imports payments",
        lambda i: i.app == "programs" and i.target_app == "payments",
    )


def ledger_messaging_violations(root: Path = SRC) -> list[str]:
    return _never(
        root,
        "ledger and messaging import only core",
        lambda i: i.app in ("ledger", "messaging") and i.target_app != "core",
    )


def synth_demo_violations(root: Path = SRC) -> list[str]:
    return _never(
        root,
        "no production app imports synth or demo",
        lambda i: i.app not in NOT_PRODUCTION and i.target_app in NOT_PRODUCTION,
    )


def page_app_violations(root: Path = SRC) -> list[str]:
    return _never(
        root,
        "domain apps never import page apps",
        lambda i: i.app in DOMAIN_APPS and i.target_app in PAGE_APPS,
    )


def private_violations(root: Path = SRC) -> list[str]:
    out = []
    for i in imports(root):
        if i.target_app == i.app:
            continue
        modules = [part for part in i.target.split(".") if _private(part)]
        names = [name for name in i.names if _private(name)]
        for private in modules:
            out.append(i.says(f"{private} is a private module of {i.target_app}"))
        for private in names:
            out.append(i.says(f"{private} is a private name of {i.target_app}"))
    return out


def unassigned_apps(root: Path = SRC) -> list[str]:
    apps = {p.relative_to(root).parts[0] for p in _sources(root) if p.parent != root}
    missing = [f"{app}/ has no layer in LAYERS" for app in sorted(apps - set(LAYERS))]
    stale = set(LAYERS) - apps - {ENTRY_POINT}
    return missing + [f"LAYERS names {app}/, which is not an app" for app in sorted(stale)]


RULES: dict[str, Callable[[Path], list[str]]] = {
    "every app is in a layer": unassigned_apps,
    "imports point to lower layers": layer_violations,
    "programs never imports payments": programs_payments_violations,
    "ledger and messaging import only core": ledger_messaging_violations,
    "no production app imports synth or demo": synth_demo_violations,
    "domain apps never import page apps": page_app_violations,
    "no private reach-ins": private_violations,
}


def violations(root: Path = SRC) -> dict[str, list[str]]:
    """Every broken rule of the tree under `root`, with its offending imports."""
    return {rule: found for rule, check in RULES.items() if (found := check(root))}


def _fail_on(found: list[str]) -> None:
    if found:
        pytest.fail("\n".join(found), pytrace=False)


def test_the_import_reader_sees_lazy_and_relative_imports(tmp_path):
    app = tmp_path / "ledger"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (tmp_path / "payments").mkdir()
    (app / "check.py").write_text(
        "from . import models\n"
        "def run():\n"
        "    from tepat.payments.models import _Payment\n"
        "    import tepat.payments.services\n"
    )
    found = {(i.line, i.target, i.names) for i in imports(tmp_path)}
    assert found == {
        (1, "tepat.ledger", ("models",)),
        (3, "tepat.payments.models", ("_Payment",)),
        (4, "tepat.payments.services", ()),
    }
    assert ledger_messaging_violations(tmp_path) == [
        "ledger/check.py:3 imports tepat.payments.models (ledger and messaging import only core)",
        "ledger/check.py:4 imports tepat.payments.services (ledger and messaging import only core)",
    ]
    assert private_violations(tmp_path) == [
        "ledger/check.py:3 imports tepat.payments.models (_Payment is a private name of payments)"
    ]


def test_every_app_directory_under_src_tepat_is_assigned_a_layer():
    _fail_on(unassigned_apps())


def test_every_import_points_to_the_own_app_or_a_lower_layer():
    _fail_on(layer_violations())


def test_programs_never_imports_payments():
    _fail_on(programs_payments_violations())


def test_ledger_and_messaging_import_only_core():
    _fail_on(ledger_messaging_violations())


def test_no_production_app_imports_synth_or_demo():
    _fail_on(synth_demo_violations())


def test_domain_apps_never_import_page_apps():
    _fail_on(page_app_violations())


def test_no_module_imports_another_apps_private_names_or_private_modules():
    _fail_on(private_violations())
