"""pipeline apply|show|list|delete, and promote NAME --to ENV.

A pipeline file is YAML (read with PyYAML) or JSON, with the body of ``PUT /pipelines/{name}`` and
its ``name``; see examples/pipelines/ and docs/cli.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import render, watching
from ..context import Context
from ..errors import EXIT_OK, UsageError
from ..options import global_options, start_like_options


def register(command: Any) -> None:
    pipeline = command(
        "pipeline",
        "Define pipelines of environments and see which version runs where.",
        "Pipelines: named, ordered environments (dev, staging, prod...), each a function alias, maybe in "
        "another account through a role. 'apply' stores a pipeline file, 'show' tells where each version "
        "runs, its promotions and drift.",
    )
    actions = pipeline.add_subparsers(dest="pipeline_command", metavar="ACTION", required=True)

    def action(name: str, help_text: str) -> Any:
        sub = actions.add_parser(name, help=help_text, description=help_text)
        global_options(sub, True)
        return sub

    apply = action("apply", "Create or replace the pipeline a YAML or JSON file describes (PUT /pipelines/NAME).")
    apply.add_argument("file", metavar="FILE", type=Path, help="pipeline file (.yaml, .yml or .json)")
    apply.add_argument("--name", metavar="NAME", help="pipeline name, if the file has no 'name'")
    apply.set_defaults(handler=apply_pipeline)
    show = action("show", "A pipeline: per environment, function, alias, version, CodeSha256, promotions, drift.")
    show.add_argument("name", metavar="NAME", help="pipeline name")
    show.set_defaults(handler=show_pipeline)
    action("list", "List the pipelines.").set_defaults(handler=list_pipelines)
    delete = action("delete", "Delete a pipeline (its promotions are kept).")
    delete.add_argument("name", metavar="NAME", help="pipeline name")
    delete.set_defaults(handler=delete_pipeline)

    promote = command(
        "promote",
        "Promote into an environment of a pipeline what the environment before it runs.",
        "Promote into ENV of pipeline NAME the version the environment before it runs now: the same "
        "version onto the alias for the same function, or the same artifact carried to another function "
        "or account and published there. Refused when the version did not succeed in the environment "
        "before, in a freeze window, or when the functions do not match; a protected environment waits "
        "for 'promoter approve ID'.",
    )
    promote.add_argument("name", metavar="NAME", help="pipeline name")
    promote.add_argument("--to", required=True, metavar="ENV", help="target environment, e.g. prod")
    promote.add_argument(
        "--version",
        metavar="N",
        help="must be what the previous environment runs (unless --override); needed for the first environment",
    )
    promote.add_argument(
        "--override", action="store_true", help="skip the guards, where the pipeline allows it (with a reason)"
    )
    promote.add_argument("--override-reason", metavar="TEXT", help="why the guards are skipped (needed)")
    start_like_options(promote)
    promote.set_defaults(handler=promote_pipeline)


def load_file(path: Path) -> dict[str, Any]:
    """A pipeline file: JSON, or YAML (PyYAML is one of the CLI's dependencies)."""
    try:
        text = path.read_text()
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except ValueError as error:
            raise UsageError(f"{path} is not valid JSON: {error}") from None
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise UsageError(f"{path} is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path} must hold one pipeline (a mapping with name and environments)")
    return data


def apply_pipeline(ctx: Context) -> int:
    a = ctx.args
    body = load_file(a.file)
    name = a.name or body.get("name")
    if not name:
        raise UsageError(f"{a.file} has no 'name': add one, or pass --name")
    if a.name and body.get("name") not in (None, a.name):
        raise UsageError(f"--name {a.name} differs from the file's name {body['name']!r}")
    stored = ctx.client.put_pipeline(str(name), body)
    arrow = f" {ctx.style.arrow} "
    ctx.emit(
        lambda: f"Pipeline {ctx.style.paint(stored.get('name'), 'bold')} stored: "
        f"{ctx.style.esc(arrow.join(stored.get('environments') or []))} "
        f"(updated by {ctx.style.esc(stored.get('updated_by'))})\n"
        f"See it:  promoter pipeline show {ctx.style.esc(stored.get('name'))}",
        stored,
    )
    return EXIT_OK


def show_pipeline(ctx: Context) -> int:
    body = ctx.client.get_pipeline(ctx.args.name)
    ctx.emit(lambda: render.pipeline_table(body, ctx.style), body)
    return EXIT_OK


def list_pipelines(ctx: Context) -> int:
    body = ctx.client.list_pipelines()
    items = (body or {}).get("items", [])
    arrow = f" {ctx.style.arrow} "
    rows = [[p.get("name"), arrow.join(p.get("environments") or []), p.get("updated_by")] for p in items]
    ctx.emit(
        lambda: render.table(["NAME", "ENVIRONMENTS", "UPDATED BY"], rows, ctx.style) if rows else "No pipelines.",
        body,
    )
    return EXIT_OK


def delete_pipeline(ctx: Context) -> int:
    body = ctx.client.delete_pipeline(ctx.args.name)
    ctx.emit(f"Pipeline {ctx.style.esc(ctx.args.name)} deleted (its promotions are kept).", body)
    return EXIT_OK


def promote_pipeline(ctx: Context) -> int:
    a = ctx.args
    if a.override_reason and not a.override:
        raise UsageError("--override-reason goes with --override")
    if a.override and not a.override_reason:
        raise UsageError("--override needs --override-reason: say why the guards are skipped")
    body: dict[str, Any] = {"to": a.to}
    if a.version:
        body["version"] = a.version
    if a.override:
        body |= {"override": True, "override_reason": a.override_reason}
    if a.reason:
        body["reason"] = a.reason
    response = ctx.client.promote_pipeline(a.name, body, a.idempotency_key)
    return watching.started(ctx, response, ctx.style.esc(f"pipeline {a.name} {ctx.style.arrow} {a.to}"))
