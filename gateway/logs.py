"""Log lines: readable text by default, one JSON object per line with
`LOG_FORMAT=json`; every line of a request carries its request id.

Configured once per process (each uvicorn worker, the allowance worker) through the
standard `logging` module, so uvicorn's own lines and ours share the format.
"""

from __future__ import annotations

import logging
import logging.config
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from schema.metrics import ACCESS

LogFormat = Literal["text", "json"]

ACCESS_FIELDS = (
    "method",
    "path",
    "status",
    "duration_ms",
    "operation",
    "caller",
    "organization",
    "codes",
)
"""What an access line adds to the message (see gateway.access_log)."""

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
}


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request it was logged in ('-' outside
    any request: start-up, the worker, the live fan-out)."""

    def filter(self, record: logging.LogRecord) -> bool:
        access = ACCESS.get()
        record.request_id = access.request_id if access is not None else "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id and any
    extra fields the call passed (an access line's method, status, ...)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """`time level logger [request id] message key=value...`, for a terminal."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"
        )

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extras = [
            f"{key}={getattr(record, key)}"
            for key in ACCESS_FIELDS
            if getattr(record, key, None) not in (None, [], "")
        ]
        return " ".join([text, *extras])


def configure_logging(level: str, log_format: LogFormat) -> None:
    """Route every logger (ours, uvicorn's) through one handler in `log_format`."""
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": {"request_id": {"()": RequestIdFilter}},
            "formatters": {
                "line": {"()": JsonFormatter if log_format == "json" else TextFormatter}
            },
            "handlers": {
                "stderr": {
                    "class": "logging.StreamHandler",
                    "formatter": "line",
                    "filters": ["request_id"],
                    "stream": "ext://sys.stderr",
                }
            },
            "root": {"handlers": ["stderr"], "level": level.upper()},
            "loggers": {
                # uvicorn's own access log stays off: ours has the request id.
                "uvicorn": {"handlers": [], "propagate": True},
                "uvicorn.error": {"handlers": [], "propagate": True},
                "uvicorn.access": {"handlers": [], "propagate": False},
            },
        }
    )
