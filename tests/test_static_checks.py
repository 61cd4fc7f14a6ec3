"""The static checks CI runs before the tests: ruff, mypy and the import-layer contract."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name
    assert path.exists(), f"{name} is missing from the test virtualenv: `make` installs the test extras"
    return str(path)


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(root))
    return subprocess.run([_tool("lint-imports"), "--no-cache"], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)


def test_ci_runs_the_checks_before_the_tests_through_the_makefile() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line.strip() for line in ci.splitlines() if line.strip().startswith("make ")]
    assert commands == ["make check", "make test"]
    assert not re.search(r"\bpip\b|pip3? install", ci)  # the Makefile installs; CI installs nothing by hand
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    target = re.search(r"^check: \$\(STAMP\)\n((?:\t.*\n)+)", makefile, re.M)
    assert target, "Makefile has no `check` target depending on the installed virtualenv"
    recipe = target.group(1)
    for tool in ("ruff check kundenakte", "mypy", "lint-imports"):
        assert f"$(VENV)/bin/{tool}" in recipe, tool
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]["test"]
    for package in ("ruff", "mypy", "import-linter"):
        assert any(re.match(rf"{package}\b", e) for e in extras), package


def test_the_layer_contract_holds() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_new_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    copy.mkdir()
    shutil.copy(ROOT / ".importlinter", copy / ".importlinter")
    shutil.copytree(ROOT / "kundenakte", copy / "kundenakte", ignore=shutil.ignore_patterns("__pycache__", "static", "translations"))
    with (copy / "kundenakte" / "core" / "clock.py").open("a", encoding="utf-8") as f:
        f.write("\nfrom kundenakte.web import pages  # noqa: E402,F401\n")
    with (copy / "kundenakte" / "plugins" / "tasks" / "views.py").open("a", encoding="utf-8") as f:
        f.write("\nfrom kundenakte.web.documents import bp as _bp  # noqa: E402,F401\n")
    result = _lint_imports(copy)
    assert result.returncode != 0
    assert "kundenakte.core.clock -> kundenakte.web.pages" in result.stdout
    assert "kundenakte.plugins.tasks.views -> kundenakte.web.documents" in result.stdout
    assert "2 broken" in result.stdout


def test_ruff_is_clean_on_the_package() -> None:
    result = subprocess.run([_tool("ruff"), "check", "kundenakte"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def _mypy_debt() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    return [m for o in config["overrides"] if o.get("ignore_errors") for m in o["module"]]


def test_the_mypy_debt_list_only_names_modules_that_exist() -> None:
    # A module that was renamed or removed must leave the list, or the list hides its successor.
    for module in _mypy_debt():
        path = ROOT.joinpath(*module.split("."))
        assert path.with_suffix(".py").exists() or (path / "__init__.py").exists(), module


def test_core_search_and_the_small_plugins_are_type_checked() -> None:
    checked = ("kundenakte.core", "kundenakte.hookspecs", "kundenakte.search", "kundenakte.plugins.tasks",
               "kundenakte.plugins.projects", "kundenakte.plugins.sales", "kundenakte.plugins.contracts")
    assert not [m for m in _mypy_debt() if m.startswith(checked)]
    # The views of contacts, companies, documents and the import, and the communication plugin's
    # hooks and views: annotated, not silenced (issue 13).
    modules = {"kundenakte.web.contacts", "kundenakte.web.companies", "kundenakte.web.documents",
               "kundenakte.web.contact_import", "kundenakte.plugins.communication",
               "kundenakte.plugins.communication.views"}
    assert not modules & set(_mypy_debt())


def test_no_view_silences_its_missing_annotation() -> None:
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in sorted((ROOT / "kundenakte").rglob("*.py"))
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if "type: ignore[no-untyped-def]" in line and "def __getattr__" not in line]
    assert offenders == []
