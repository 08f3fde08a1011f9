"""The one error type of the ingest parsers and the record of a rejected input row."""

from __future__ import annotations

from dataclasses import dataclass


class IngestError(Exception):
    """An input (file, feed or answer) could not be read at all; the message says why.

    Row-level problems are never raised: they become ``Rejection`` records so that the rest
    of the input still arrives.
    """


class ExpansionLimitError(IngestError):
    """A compressed input (an XLSX workbook's parts, a gzip answer) would expand past a limit.

    Raised before the input is inflated past the limit, so that refusing it costs little time
    and memory; ``limit`` is the most bytes allowed, ``size`` what the input declares or
    reached (``None`` when unknown).
    """

    def __init__(self, message: str, *, limit: int, size: int | None = None) -> None:
        super().__init__(message)
        self.limit = limit
        self.size = size


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
