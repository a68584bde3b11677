"""``vldesk models ...``: list, download, import and remove models."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("models", help="list, download, import and remove models")
    parser.set_defaults(handler=_not_ready)


def _not_ready(args: argparse.Namespace) -> int:
    print("vldesk: 'models' commands are not available yet", file=sys.stderr)
    return 1
