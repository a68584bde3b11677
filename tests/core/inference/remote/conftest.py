"""``start_server`` (vldesk serve on a free port, stopped after the test) for the remote tests."""

from tests.server.conftest import start_server

__all__ = ["start_server"]
