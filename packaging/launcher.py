"""PyInstaller entry point: the same ``main`` as the ``vldesk`` and ``vldesk-cli`` scripts."""

import sys

from vldesk.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
