"""``python -m plugin``: headless commands of the plugin (torch-free).

    python -m plugin submit SHOT.yaml --server tcp://HOST:PORT [--mode stream|shared]
"""

from __future__ import annotations

import argparse
import sys

from . import submit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m plugin", description="internal-inpaint plugin commands")
    commands = parser.add_subparsers(dest="command", required=True)
    submit.add_parser(commands)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
