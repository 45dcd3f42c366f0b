"""What an emulator route returns: status, body and headers."""
from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field


@dataclass
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"

    @classmethod
    def json(cls, payload, status: int = 200, headers: dict | None = None) -> "Answer":
        body = json.dumps(payload, default=_json_default, ensure_ascii=False).encode("utf-8")
        return cls(status, body, dict(headers or {}))

    @classmethod
    def error(cls, status: int, message: str, code: str | None = None,
              headers: dict | None = None) -> "Answer":
        extra = dict(headers or {})
        if code:
            extra["X-Error-Code"] = code
        extra["X-Error-Message"] = message
        return cls.json({"error": message}, status, extra)


def _json_default(value):
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    return str(value)
