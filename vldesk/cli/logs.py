"""The CLI's stderr: vldesk's own warnings always, library chatter and details only with ``-v``."""

from __future__ import annotations

import logging
import sys
import warnings

#: Loggers of the libraries vldesk drives. Their warnings (kernel fallbacks, deprecations,
#: hub notices) are about the libraries, not the user's images: shown only with -v.
LIBRARY_LOGGERS = (
    "transformers",
    "torch",
    "modelscope",
    "modelscope_hub",
    "accelerate",
    "huggingface_hub",
    "urllib3",
    "filelock",
    "PIL",
)


class QuietLibraries(logging.Filter):
    """Drop library records below ERROR.

    A handler filter rather than logger levels: transformers resets its logger's level when it
    is first imported, which happens after the CLI has set up logging.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            return True
        return not any(
            record.name == name or record.name.startswith(name + ".") for name in LIBRARY_LOGGERS
        )


_handler: logging.Handler | None = None


def configure_logging(*, verbose: bool) -> logging.Handler:
    """One stderr handler on the root logger: INFO and everything with ``verbose``, else
    WARNING from vldesk and ERROR from the libraries. Calling it again replaces the handler
    (the CLI can run several times in one process, e.g. in tests)."""
    global _handler
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    _handler = handler
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    root.addHandler(handler)
    # Python warnings (FutureWarning from a library, ...) become log records under py.warnings.
    logging.captureWarnings(True)
    if not verbose:
        handler.addFilter(QuietLibraries())
        # Warnings raised by vldesk's own code stay visible; a library's are details.
        warnings.filterwarnings("ignore", module=r"(?!vldesk)")
    return handler
