"""The sandbox's layout holds: one install list of documented patches, imports that go one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sandbox import install

SANDBOX = Path(__file__).resolve().parents[2] / "sandbox"
AWS_DOCS = "https://docs.aws.amazon.com/"


def module_name(path: Path) -> str:
    parts = path.relative_to(SANDBOX.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The sandbox modules ``path`` imports, at the top or inside a function."""
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("sandbox")}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join(base + (node.module.split(".") if node.module else []))
            if not target.startswith("sandbox"):
                continue
            if node.module:  # `from . import x` imports module x, not the package's own code
                found.add(target)
            found |= {f"{target}.{alias.name}" for alias in node.names}
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(path): path for path in SANDBOX.rglob("*.py")}
    return {name: {m for m in imports_of(path) if m in modules and m != name} for name, path in modules.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], dict.fromkeys(edges, 0)  # 0 new, 1 on the path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for other in sorted(edges[node]):
            if state[other] == 1:
                found.append(path[path.index(other) :] + [other] if other in path else [node, other])
            elif state[other] == 0:
                visit(other, path + [other])
        state[node] = 2

    for node in sorted(edges):
        if state[node] == 0:
            visit(node, [node])
    return found


def test_the_cycle_finder_finds_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_import_graph_sees_relative_and_function_level_imports() -> None:
    edges = graph()
    assert "sandbox.aws.events.delivery" in edges["sandbox.aws.cloudwatch.alarms"]  # inside a function
    assert "sandbox.clock" in edges["sandbox.aws.scheduler"]


def test_no_module_of_the_sandbox_imports_itself_round_in_a_circle() -> None:
    assert cycles(graph()) == []


def test_the_faked_services_never_import_the_start_up_side() -> None:
    start_up = {"sandbox.core", "sandbox.install", "sandbox.workers", "sandbox", "sandbox.server", "sandbox.demo"}
    wrong = {
        name: sorted(imported & start_up or {m for m in imported if m.startswith(("sandbox.server", "sandbox.demo"))})
        for name, imported in graph().items()
        if name.startswith("sandbox.aws")
    }
    assert {name: found for name, found in wrong.items() if found} == {}


@pytest.mark.parametrize("patch", install.PATCHES, ids=lambda patch: f"{patch.__module__}.{patch.__name__}")
def test_every_patch_says_what_aws_does_and_cites_its_documentation(patch: install.Patch) -> None:
    assert patch.__doc__ and AWS_DOCS in patch.__doc__, f"{patch.__name__} cites no AWS documentation"
    assert patch.__module__.startswith("sandbox.aws.") or patch.__module__ == "sandbox.install"


def test_each_patch_is_listed_once_and_installing_again_patches_nothing_twice() -> None:
    from moto.events import models as events_models

    assert len(set(install.PATCHES)) == len(install.PATCHES)
    install.install(1.0, {})
    delivered = events_models.Rule.send_to_targets
    install.install(1.0, {})
    assert events_models.Rule.send_to_targets is delivered
    from sandbox import workers

    workers.stop()


def test_no_other_module_patches_moto_behind_the_install_list() -> None:
    """Assignments onto moto's classes happen only inside the functions PATCHES lists (or helpers
    they call): no module patches moto when imported."""
    for path in SANDBOX.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level only
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    text = ast.unparse(target)
                    assert not (isinstance(target, ast.Attribute) and "models" in text), f"{path}: {text}"
