"""``promoter pipeline apply|show|list|delete`` and ``promoter promote NAME --to ENV``.

A pipeline file is YAML (read with PyYAML) or JSON, with the body of ``PUT /pipelines/{name}``
and its ``name``; see examples/pipelines/ and docs/cli.md.
"""

from __future__ import annotations

import argparse
import json
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import render

COMMANDS = {"pipeline", "promote"}


# --- parsing ----------------------------------------------------------------------------------------
def add_commands(
    command: Callable[..., argparse.ArgumentParser],
    global_options: Callable[[argparse.ArgumentParser, bool], None],
    positive_float: Callable[[str], float],
) -> None:
    """Add ``pipeline`` (with its actions) and ``promote`` to the CLI's parser."""
    pipeline = command(
        "pipeline",
        "Define pipelines of environments and see which version runs where.",
        "Pipelines: named, ordered environments (dev, staging, prod...), each a function alias, maybe in "
        "another account through a role. 'apply' stores a pipeline file, 'show' tells where each version "
        "runs, its promotions and drift.",
    )
    actions = pipeline.add_subparsers(dest="pipeline_command", metavar="ACTION", required=True)

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text, description=help_text)
        global_options(sub, True)
        return sub

    apply = action("apply", "Create or replace the pipeline a YAML or JSON file describes (PUT /pipelines/NAME).")
    apply.add_argument("file", metavar="FILE", type=Path, help="pipeline file (.yaml, .yml or .json)")
    apply.add_argument("--name", metavar="NAME", help="pipeline name, if the file has no 'name'")
    show = action("show", "A pipeline: per environment, function, alias, version, CodeSha256, promotions, drift.")
    show.add_argument("name", metavar="NAME", help="pipeline name")
    action("list", "List the pipelines.")
    delete = action("delete", "Delete a pipeline (its promotions are kept).")
    delete.add_argument("name", metavar="NAME", help="pipeline name")

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
    promote.add_argument("--reason", metavar="TEXT", help="why: recorded with the promotion")
    promote.add_argument("--idempotency-key", metavar="KEY", help="the same key again returns the same promotion")
    promote.add_argument("--watch", action="store_true", help="then watch it; the exit code is watch's")
    promote.add_argument(
        "--interval", type=positive_float, default=1.0, metavar="SECONDS", help="with --watch: seconds between polls"
    )
    promote.add_argument(
        "--timeout", type=positive_float, metavar="SECONDS", help="with --watch: stop watching after this long"
    )


# --- running ----------------------------------------------------------------------------------------
def run(cli: Any) -> int:
    if cli.args.command == "promote":
        return promote(cli)
    return {"apply": apply, "show": show, "list": list_pipelines, "delete": delete}[cli.args.pipeline_command](cli)


def _path(name: str, suffix: str = "") -> str:
    return f"/pipelines/{urllib.parse.quote(name, safe='')}{suffix}"


def load_file(path: Path) -> dict[str, Any]:
    """A pipeline file: JSON, or YAML when PyYAML is installed (it is pinned in requirements.txt)."""
    from .main import UsageError

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
        try:
            import yaml
        except ImportError:
            raise UsageError(f"reading YAML needs PyYAML (pip install pyyaml); or write {path.name} as JSON") from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise UsageError(f"{path} is not valid YAML: {error}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path} must hold one pipeline (a mapping with name and environments)")
    return data


def apply(cli: Any) -> int:
    from .main import UsageError

    body = load_file(cli.args.file)
    name = cli.args.name or body.get("name")
    if not name:
        raise UsageError(f"{cli.args.file} has no 'name': add one, or pass --name")
    if cli.args.name and body.get("name") not in (None, cli.args.name):
        raise UsageError(f"--name {cli.args.name} differs from the file's name {body['name']!r}")
    stored = cli.client.request("PUT", _path(str(name)), body=body).body
    arrow = f" {cli.style.arrow} "
    cli.emit(
        lambda: f"Pipeline {cli.style.paint(str(stored.get('name')), 'bold')} stored: "
        f"{arrow.join(stored.get('environments') or [])} (updated by {stored.get('updated_by')})\n"
        f"See it:  promoter pipeline show {stored.get('name')}",
        stored,
    )
    return 0


def show(cli: Any) -> int:
    body = cli.client.request("GET", _path(cli.args.name)).body
    cli.emit(lambda: pipeline_table(body, cli.style), body)
    return 0


def list_pipelines(cli: Any) -> int:
    body = cli.client.request("GET", "/pipelines").body
    items = (body or {}).get("items", [])
    arrow = f" {cli.style.arrow} "
    rows = [[p.get("name"), arrow.join(p.get("environments") or []), p.get("updated_by")] for p in items]
    cli.emit(lambda: render.table(["NAME", "ENVIRONMENTS", "UPDATED BY"], rows) if rows else "No pipelines.", body)
    return 0


def delete(cli: Any) -> int:
    body = cli.client.request("DELETE", _path(cli.args.name)).body
    cli.emit(f"Pipeline {cli.args.name} deleted (its promotions are kept).", body)
    return 0


def promote(cli: Any) -> int:
    from .main import UsageError

    a = cli.args
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
    headers = {"Idempotency-Key": a.idempotency_key} if a.idempotency_key else None
    response = cli.client.request("POST", _path(a.name, "/promote"), body=body, headers=headers)
    started = response.body if isinstance(response.body, dict) else {}
    promotion_id = str(started.get("id", "?"))
    if a.watch:
        if not a.json:
            print(f"Started {promotion_id} ({started.get('status', '?')}); watching...", file=cli.out)
        return cli._watch(promotion_id, a.interval, a.timeout)
    cli.emit(
        lambda: f"Started promotion {cli.style.paint(promotion_id, 'bold')} ({started.get('status', '?')}): "
        f"pipeline {a.name} {cli.style.arrow} {a.to}\nFollow it:  promoter watch {promotion_id}",
        started,
    )
    return 0


# --- rendering ---------------------------------------------------------------------------------------
def _where(env: dict[str, Any]) -> str:
    arn = str(env.get("function_arn") or "")
    parts = arn.split(":")
    if len(parts) >= 7:
        return f"{parts[6]} @{parts[4]}"
    return str(env.get("function") or "-")


def _short(sha: Any) -> str:
    return f"{str(sha)[:10]}…" if sha else "-"


def _promotion(value: Any) -> str:
    if not isinstance(value, dict):
        return "-"
    return f"{value.get('id')} {value.get('status')} ({value.get('stable_version')}→{value.get('candidate_version')})"


def pipeline_table(body: Any, style: render.Style) -> str:
    if not isinstance(body, dict):
        return str(body)
    rows, notes = [], []
    for env in body.get("state") or []:
        weights = env.get("weights") or {}
        routing = ", ".join(f"{v}: {render.percent(w)}" for v, w in weights.items()) or "-"
        drift = {True: style.paint("DRIFT", "red"), False: "no", None: "-"}[env.get("drift")]
        rows.append(
            [
                env.get("name"),
                _where(env),
                env.get("alias"),
                env.get("version"),
                _short(env.get("code_sha256")),
                routing,
                _promotion(env.get("active_promotion")),
                _promotion(env.get("last_promotion")),
                drift,
            ]
        )
        name = env.get("name")
        if env.get("error"):
            notes.append(f"  {name}: cannot read it: {env['error']}")
        if env.get("drift"):
            notes.append(f"  {name}: drift: {env.get('drift_reason')}")
        if env.get("frozen_until"):
            notes.append(f"  {name}: frozen until {env['frozen_until']}")
        if env.get("role_arn"):
            notes.append(f"  {name}: through role {env['role_arn']}")
        if env.get("protected"):
            notes.append(f"  {name}: protected (approval required)")
    arrow = f" {style.arrow} "
    title = (
        f"Pipeline {style.paint(str(body.get('name')), 'bold')}: {arrow.join(body.get('environments') or [])}"
        f"   overrides {'allowed' if body.get('allow_override') else 'not allowed'}"
    )
    headers = ["ENV", "FUNCTION", "ALIAS", "VERSION", "CODESHA256", "ROUTING", "ACTIVE", "LAST", "DRIFT"]
    text = title + "\n" + render.table(headers, rows)
    if notes:
        text += "\n" + "\n".join(notes)
    return text
