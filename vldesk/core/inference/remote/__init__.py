"""Remote engines: one OpenAI-compatible server, or a pool of them answering one job."""

from vldesk.core.inference.remote.endpoint import Endpoint
from vldesk.core.inference.remote.engine import RemoteEngine
from vldesk.core.inference.remote.pool import EndpointPool

__all__ = ["Endpoint", "EndpointPool", "RemoteEngine"]
