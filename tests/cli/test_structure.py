"""The CLI's code: no import circle, command groups that import neither each other nor main, and
every HTTP call through the typed client's methods."""

import ast
from pathlib import Path

import promoter_cli

PACKAGE = Path(promoter_cli.__file__).parent


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every promoter_cli module ``path`` imports, at the top or inside a function."""
    here = _module(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(max(0, node.level - 1)):
                base = base.rpartition(".")[0]
            target = (f"{base}.{node.module}" if node.module else base) if node.level else (node.module or "")
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.add(candidate if (PACKAGE.parent / candidate.replace(".", "/")).with_suffix(".py").exists()
                          or (PACKAGE.parent / candidate.replace(".", "/")).is_dir() else target)  # fmt: skip
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m.startswith("promoter_cli") and m != here}


GRAPH = {_module(p): _imports(p) for p in PACKAGE.rglob("*.py")}


def test_there_is_no_import_circle():
    def visit(module: str, trail: tuple[str, ...]) -> None:
        assert module not in trail, " -> ".join((*trail, module))
        for imported in GRAPH.get(module, ()):
            visit(imported, (*trail, module))

    for module in GRAPH:
        visit(module, ())


def test_command_groups_import_neither_each_other_nor_main():
    groups = {m for m in GRAPH if m.startswith("promoter_cli.commands.")}
    names = ("promotions", "schedules", "pipelines", "dashboard", "completion")
    assert groups == {f"promoter_cli.commands.{g}" for g in names}
    for group in groups:
        assert not GRAPH[group] & (groups | {"promoter_cli.main"}), group
    importers = {m for m, imports in GRAPH.items() if "promoter_cli.main" in imports}
    assert importers == {"promoter_cli.__main__"}  # python -m promoter_cli; nothing else


def test_only_the_client_sends_requests():
    for path in PACKAGE.rglob("*.py"):
        if path.name == "client.py":
            continue
        assert ".request(" not in path.read_text(), path


def test_docs_cli_md_has_a_section_for_every_command():
    import argparse

    from promoter_cli.main import build_parser

    docs = (PACKAGE.parent / "docs" / "cli.md").read_text()
    headings = [line[3:] for line in docs.splitlines() if line.startswith("## ")]
    (commands,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    missing = [name for name in commands.choices if not any(name in heading.split(", ") or
               heading.split()[0] == name for heading in headings)]  # fmt: skip
    assert missing == []
