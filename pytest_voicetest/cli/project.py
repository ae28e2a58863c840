"""`voicetest settings`, `voicetest metrics` and `voicetest schema`: the project's configuration."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import InputError
from .common import emit


def cmd_metrics(args: argparse.Namespace) -> int:
    from ..api import get_metrics_config, set_metrics_config
    from ..models.graph import MetricsConfig
    from ..validation import validate

    path = Path(args.agent)
    config = get_metrics_config(path)
    if args.threshold is not None or args.add or args.remove:
        removed = set(args.remove or [])
        kept = [m.model_dump() for m in config.global_metrics if m.name not in removed and m.criteria not in removed]
        known = {m["criteria"] for m in kept}
        metrics = kept + [{"name": c, "criteria": c} for c in args.add or [] if c not in known]
        threshold = config.threshold if args.threshold is None else args.threshold
        config = validate(MetricsConfig, {"threshold": threshold, "global_metrics": metrics}, source="--threshold/--add")
        print(f"wrote {set_metrics_config(path, config)}", file=sys.stderr)
    text = f"threshold: {config.threshold}\n" + "\n".join(
        f"global metric: {m.criteria}" + (f" (threshold {m.threshold})" if m.threshold is not None else "") + ("" if m.enabled else " (disabled)")
        for m in config.global_metrics
    )
    emit(args, config.model_dump(), text)
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from ..run.schema import SCHEMAS

    print(json.dumps(SCHEMAS[args.kind](), indent=2))
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    from ..config.files import find_settings_file
    from ..config.settings import masked, read_settings, update_settings, write_settings

    directory = Path(args.dir)
    settings, warnings = read_settings(directory)
    for warning in warnings:
        print(f"voicetest: warning: {warning}", file=sys.stderr)
    if args.set:
        pairs = {}
        for item in args.set:
            key, sep, value = item.partition("=")
            if not sep:
                raise InputError(f"--set expects KEY=VALUE, got '{item}'", field="--set")
            pairs[key.strip()] = value.strip()
        settings = update_settings(settings, pairs)
        path = write_settings(settings, directory)
        print(f"wrote {path}", file=sys.stderr)
    found = find_settings_file(directory.resolve())
    data = masked(settings)
    lines = [f"settings file: {found[0] if found else '(none: defaults)'}"]
    lines += [f"{table}.{key} = {value}" for table, values in data.items() for key, value in values.items()]
    emit(args, {"file": str(found[0]) if found else None, **data}, "\n".join(lines))
    return 0


def add_parsers(command: Any) -> None:
    cmd = command("metrics", cmd_metrics, "Show or change an agent's metrics config (threshold, global metrics).")
    cmd.add_argument("agent")
    cmd.add_argument("--threshold", type=float)
    cmd.add_argument("--add", action="append", metavar="CRITERION", help="add a global metric")
    cmd.add_argument("--remove", action="append", metavar="CRITERION", help="remove a global metric")

    cmd = command("schema", cmd_schema, "Print the JSON Schema of test, campaign or sweep files (for editors).")
    cmd.add_argument("--kind", choices=["test", "campaign", "sweep"], default="test")

    cmd = command("settings", cmd_settings, "Show settings (and which file they came from), or change them with --set KEY=VALUE.")
    cmd.add_argument("--dir", default=".", help="project directory")
    cmd.add_argument("--set", action="append", metavar="KEY=VALUE", help="e.g. models.agent=openai/gpt-4o-mini")
