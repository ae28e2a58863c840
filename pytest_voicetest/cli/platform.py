"""`voicetest platform ...`: keys, and agents on Retell, VAPI, Bland and Telnyx
(login, logout, status, list, pull, push, diff, sync).

Keys never come from the command line: `login` reads a prompt (hidden) or, with
`--from-env`, the `RETELL_API_KEY`-style variable.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from .common import Parser, emit, write_output

if TYPE_CHECKING:
    from ..models.graph import AgentGraph


def _connection(args: argparse.Namespace) -> dict[str, Any]:
    return {"base_url": args.base_url}


def _graph(args: argparse.Namespace) -> AgentGraph:
    from ..importers import load_agent_file

    return load_agent_file(Path(args.file), args.agent_format)


def _at_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def cmd_login(args: argparse.Namespace) -> int:
    from ..platforms.credentials import AlreadyConfigured, check_platform, env_key, save_api_key

    platform = check_platform(args.platform)
    if args.from_env:
        key = os.environ.get(env_key(platform), "")
        if not key.strip():
            raise InputError(
                f"{env_key(platform)} is not set", field="--from-env", fix=f"export {env_key(platform)}=... first, or drop --from-env to type the key"
            )
    else:
        # at a terminal: a hidden prompt; otherwise the first line of stdin (`... | voicetest platform login`)
        key = getpass.getpass(f"{platform} API key (hidden): ") if _at_terminal() else (sys.stdin.readline(4096).strip() if sys.stdin else "")
        if not key:
            raise InputError(
                "no key was given", field="key", fix=f"type it at the prompt, pipe it on stdin, or export {env_key(platform)}=... and pass --from-env"
            )
    try:
        status = save_api_key(platform, key, replace=args.replace)
    except AlreadyConfigured as exc:  # the seed's 409: at a terminal, ask before replacing
        if not _at_terminal():
            raise
        if not _confirm(f"{exc.message}; replace it?"):
            raise
        status = save_api_key(platform, key, replace=True)
    emit(args, status.to_data(), f"{platform}: key {status.masked} stored")
    return 0


def cmd_logout(args: argparse.Namespace) -> int:
    from ..platforms.credentials import check_platform, env_key, key_status, remove_api_key

    platform = check_platform(args.platform)
    removed = remove_api_key(platform)
    text = f"{platform}: stored key removed" if removed else f"{platform}: no stored key"
    if key_status(platform).source == "env":
        text += f" ({env_key(platform)} is still set in the environment)"
    emit(args, {"platform": platform, "removed": removed}, text)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from ..platforms.credentials import PLATFORM_NAMES, key_status

    found = [key_status(p) for p in PLATFORM_NAMES]
    text = "\n".join(f"{s.platform:7s} {f'{s.masked} ({s.source})' if s.configured else 'not configured'}" for s in found)
    emit(args, [s.to_data() for s in found], text)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from ..platforms import list_agents

    agents = list_agents(args.platform, **_connection(args))
    text = "\n".join(f"{a.id}  {a.kind:9s} {a.name}" for a in agents) or f"no agents on {args.platform}"
    emit(args, [a.to_data() for a in agents], text)
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    from ..platforms import pull

    config = pull(args.platform, args.agent_id, **_connection(args))
    text = json.dumps(config, indent=2, ensure_ascii=False) + "\n"
    if not args.output:
        sys.stdout.write(text)
        return 0
    target = write_output(args.output, text)
    emit(args, {"platform": args.platform, "id": args.agent_id, "file": str(target)}, f"pulled {args.platform} agent {args.agent_id} into {target}")
    return 0


def cmd_push(args: argparse.Namespace) -> int:
    from ..platforms import push

    result = push(args.platform, _graph(args), agent_id=args.agent_id, name=args.name, **_connection(args))
    emit(args, result.to_data(), result.id)
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from ..platforms import diff

    found = diff(args.platform, _graph(args), args.agent_id, **_connection(args))
    emit(args, {"platform": args.platform, "id": args.agent_id, "changes": found}, "\n".join(found) or "no changes: the platform matches the file")
    return 0


def _confirm(question: str) -> bool:
    """Ask at the terminal (on stderr, so stdout stays the command's output); end of input is no."""
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    try:
        return input().strip().lower() in {"y", "yes"}
    except EOFError:
        return False


def _ask(changes: list[str]) -> bool:
    print("\n".join(changes))
    return _confirm(f"push these {len(changes)} change(s)?")


def cmd_sync(args: argparse.Namespace) -> int:
    """Exit 0 when in sync or pushed, 1 when changes remain unpushed."""
    from ..platforms import sync

    interactive = not args.yes and not args.json and _at_terminal()
    confirm = _ask if interactive else (lambda changes: bool(args.yes))
    result = sync(args.platform, _graph(args), args.agent_id, confirm, **_connection(args))
    shown = [] if interactive else result.changes
    if not result.changes:
        outcome = "no changes: the platform matches the file"
    elif result.pushed:
        outcome = f"pushed {len(result.changes)} change(s) to {result.platform} agent {result.id}"
    else:
        outcome = f"not pushed: {len(result.changes)} change(s) pending; run with --yes to push"
    emit(args, result.to_data(), "\n".join([*shown, outcome]))
    return 0 if result.pushed or not result.changes else 1


def add_parser(sub: Any) -> None:
    """The `platform` command and its subcommands."""
    group = sub.add_parser("platform", help="Agents on Retell, VAPI, Bland and Telnyx: login, list, pull, push, diff, sync.")
    platform_sub = group.add_subparsers(dest="platform_command", required=True, parser_class=Parser)

    def command(name: str, handler: Any, help_text: str, *, platform: bool = True, remote: bool = True) -> argparse.ArgumentParser:
        cmd: argparse.ArgumentParser = platform_sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument("--json", action="store_true", help="print JSON")
        cmd.set_defaults(handler=handler)
        if platform:
            cmd.add_argument("platform", help="retell, vapi, bland or telnyx")
        if remote:
            cmd.add_argument("--base-url", help="API base URL (default: the vendor's, or RETELL_BASE_URL-style variables)")
        return cmd

    cmd = command("login", cmd_login, "Store an API key (typed at a hidden prompt, or --from-env).", remote=False)
    cmd.add_argument("--from-env", action="store_true", help="read the key from RETELL_API_KEY-style variables")
    cmd.add_argument("--replace", action="store_true", help="replace a key that is already stored")
    command("logout", cmd_logout, "Forget the stored API key.", remote=False)
    command("status", cmd_status, "Show which platforms have a key (masked) and where it comes from.", platform=False, remote=False)
    command("list", cmd_list, "List the agents of the account (id, kind, name).")
    cmd = command("pull", cmd_pull, "Download an agent's full config (importable by voicetest).")
    cmd.add_argument("agent_id")
    cmd.add_argument("-o", "--output", help="write to this file instead of stdout")

    def file_command(name: str, handler: Any, help_text: str, agent_id_required: bool) -> argparse.ArgumentParser:
        cmd = command(name, handler, help_text)
        cmd.add_argument("file", help="agent config in any importable format")
        cmd.add_argument("--agent-id", required=agent_id_required, help="the platform's agent id")
        cmd.add_argument("--agent-format", default="auto", help="force an importer (default: auto-detect)")
        return cmd

    cmd = file_command("push", cmd_push, "Create an agent from a file, or update --agent-id; prints the id.", False)
    cmd.add_argument("--name", help="agent name on the platform")
    file_command("diff", cmd_diff, "Show what pushing the file to --agent-id would change.", True)
    cmd = file_command("sync", cmd_sync, "Pull, compare, and push the file to --agent-id after confirmation.", True)
    cmd.add_argument("--yes", action="store_true", help="push without asking")
