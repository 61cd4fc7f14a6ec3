"""The search package uses Whoosh through its documented API only.

No underscore names of Whoosh are imported, no private attribute of any object but our own is
touched (``self._x`` only), and no class here inherits from a Whoosh class (no patched codec,
writer or reader). A Whoosh upgrade can then only break what Whoosh's own API reference promises.
"""

from __future__ import annotations

import ast
from pathlib import Path

import kundenakte.search

SEARCH = Path(kundenakte.search.__file__).parent
# The Whoosh modules the backend may use: the ones its API reference documents for applications.
ALLOWED_MODULES = {
    "whoosh", "whoosh.analysis", "whoosh.columns", "whoosh.fields", "whoosh.filedb.filestore", "whoosh.formats",
    "whoosh.index", "whoosh.lang", "whoosh.lang.snowball.german", "whoosh.query", "whoosh.scoring",
}


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(), filename=str(p))) for p in sorted(SEARCH.glob("*.py"))]


def test_only_documented_whoosh_modules_and_names_are_imported() -> None:
    problems = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("whoosh"):
                if node.module not in ALLOWED_MODULES:
                    problems.append(f"{path.name}: from {node.module}")
                problems += [f"{path.name}: {a.name}" for a in node.names if a.name.startswith("_")]
            if isinstance(node, ast.Import):
                problems += [f"{path.name}: import {a.name}" for a in node.names
                             if a.name.startswith("whoosh") and a.name not in ALLOWED_MODULES]
    assert problems == []


def test_no_private_attributes_of_other_objects() -> None:
    problems = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                if not (isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"}):
                    problems.append(f"{path.name}:{node.lineno}: .{node.attr}")
    assert problems == []


def test_no_class_inherits_from_whoosh() -> None:
    problems = []
    for path, tree in _modules():
        from_whoosh = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0
                       and (n.module or "").startswith("whoosh") for a in n.names}
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for base in node.bases:
                    root = base
                    while isinstance(root, ast.Attribute):
                        root = root.value  # type: ignore[assignment]
                    if isinstance(root, ast.Name) and root.id in from_whoosh | {"whoosh", "wq"}:
                        problems.append(f"{path.name}: class {node.name}({ast.unparse(base)})")
    assert problems == []


def test_the_checks_can_fail(tmp_path: Path) -> None:
    """The AST checks above really see a private access and a subclass."""
    bad = ast.parse("from whoosh.codec.whoosh3 import W3Codec\nclass X(W3Codec):\n    pass\nm._data\n")
    attrs = [n for n in ast.walk(bad) if isinstance(n, ast.Attribute) and n.attr.startswith("_")]
    classes = [n for n in ast.walk(bad) if isinstance(n, ast.ClassDef)]
    assert attrs and classes
    imports = [n for n in ast.walk(bad) if isinstance(n, ast.ImportFrom)]
    assert imports[0].module not in ALLOWED_MODULES
