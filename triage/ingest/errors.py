"""The one error type of the ingest parsers and the record of a rejected input row."""

from __future__ import annotations

from dataclasses import dataclass


class IngestError(Exception):
    """An input (file, feed or answer) could not be read at all; the message says why.

    Row-level problems are never raised: they become ``Rejection`` records so that the rest
    of the input still arrives.
    """


class Open311ServerError(IngestError):
    """The Open311 server answered with a GeoReport error document (or an HTTP error)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Rejection:
    """One input row left out, and why: ``row`` is the 1-based record number in its input."""

    row: int
    field: str
    reason: str
    value: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "field": self.field, "reason": self.reason, "value": self.value}
