"""The `synap` command line: `synap serve | inspect | import | record`.

Each subcommand lives in its own module under `synap.commands` and is imported only when it
runs, so `synap --help` and `import synap` stay cheap.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# name -> (module under synap.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("serve", "run a local Synap server on loopback, backed by SQLite"),
    "inspect": ("inspect", "print what a local server's database holds"),
    "import": ("import_", "bulk-import messages (JSONL) or documents into Synap"),
    "record": ("record", "record one conversation message"),
}


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    from synap import __version__

    parser = argparse.ArgumentParser(prog="synap", description="The Synap memory API, locally.")
    parser.add_argument("--version", action="version", version=f"synap-memory {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    wanted = next((a for a in argv if not a.startswith("-")), None)
    for name, (module, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        if name == wanted:
            # Only the command that runs is imported (and only it needs its arguments).
            importlib.import_module(f"synap.commands.{module}").add_arguments(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(args_list).parse_args(args_list)
    module = importlib.import_module(f"synap.commands.{COMMANDS[args.command][0]}")
    result: int = module.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
