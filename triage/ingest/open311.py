"""Open311 GeoReport v2 answers (XML or JSON) to plain rows: pure functions, no network.

XML goes through defusedxml with DTDs forbidden; real servers' quirks (empty and ``xsi:nil``
elements, zoneless times, capitalised statuses, 0.0/0.0 for "no location", junk before the root,
an answer cut off mid-record) are tolerated: every complete record is kept, the rest counted.
"""

from __future__ import annotations

import codecs
import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import pandas as pd
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from triage.ingest.errors import IngestError, Open311ServerError, Rejection
from triage.ingest.records import build_reports

MAX_PAYLOAD_BYTES = 64 * 1024 * 1024
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
SERVICE_COLUMNS = ("service_code", "service_name", "group", "description", "metadata", "type")
MAX_RECORD_BYTES = 1024 * 1024  # one recovered record; a real request is a few kilobytes
MAX_RECOVERED_RECORDS = 100_000  # a page is at most a few thousand; memory stays bounded
DROPPED = "dropped: "
CUT_OFF = DROPPED + "the answer was cut off inside this record"
NOT_WELL_FORMED = DROPPED + "this record is not well-formed XML"
CUT_OFF_LIST = DROPPED + "the answer was cut off or broken here (any records after it are lost)"
REQUEST_ROOTS = ("service_requests", "requests", "service_request")
ANY_ROOT = re.compile(
    rb"<\?xml\s|<(?:[A-Za-z_][\w.-]{0,40}:)?(?:service_requests|requests|service_request|services"
    rb"|errors|error|discovery|service_definition)[\s/>]"
)
XML_ENCODING = re.compile(rb"""<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z][\w.:-]{0,39})["']""")
XMLNS = re.compile(
    rb"""\sxmlns(?::[A-Za-z_][\w.-]{0,40})?\s*=\s*(?:"[^"<]{0,500}"|'[^'<]{0,500}')"""
)
JSON_WRAPPER = re.compile(r'\s*\{\s*"(?:service_requests|requests|services)"\s*:\s*\[')
CLOSING_TAIL = re.compile(rb"(?:\s*</[\w.:-]+\s*>)+\s*")  # the end of a whole answer
HEAD_BYTES = 64 * 1024


def detect_format(payload: bytes | str) -> str:
    """``xml`` or ``json``, from the first character that is not white space (or a BOM)."""
    head = payload[:512]
    if isinstance(head, bytes):
        head = head.decode("utf-8", "replace")
    head = head.lstrip("\ufeff \t\r\n")
    if head.startswith("<"):
        return "xml"
    if head.startswith(("[", "{")):
        return "json"
    if not head:
        raise IngestError("The Open311 answer is empty.")
    if ANY_ROOT.search(_as_bytes(payload[:HEAD_BYTES])):
        return "xml"  # a server's warning text before the document
    raise IngestError("The Open311 answer is neither XML nor JSON.")


def _check_size(payload: bytes | str) -> None:
    if not payload.strip():
        raise IngestError("The Open311 answer is empty.")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise IngestError(
            f"The Open311 answer is larger than {MAX_PAYLOAD_BYTES // (1024 * 1024)} MiB; "
            "ask for a shorter date window."
        )


def _dtd_refused(exc: Exception) -> IngestError:
    return IngestError(
        f"The Open311 answer was refused: it declares a DTD or entities ({type(exc).__name__})."
    )


def _xml_root(payload: bytes | str) -> Element:
    """The root of a well-formed answer; junk before the root (a BOM, white space before the
    XML declaration, a server's warning text) is skipped. Raises ``IngestError``."""
    _check_size(payload)
    try:
        return fromstring(payload, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise _dtd_refused(exc) from None
    except ParseError as exc:
        problem: Exception = exc
    except (ValueError, UnicodeError, TypeError) as exc:
        raise IngestError(f"The Open311 answer could not be read as XML: {exc}.") from None
    start = _document_start(_as_bytes(payload))
    if start:
        try:
            return fromstring(_as_bytes(payload)[start:], forbid_dtd=True)
        except DefusedXmlException as exc:
            raise _dtd_refused(exc) from None
        except (ParseError, ValueError, UnicodeError, TypeError):
            pass
    raise IngestError(f"The Open311 answer is not well-formed XML: {problem}.")


def _as_bytes(payload: bytes | str) -> bytes:
    """Bytes as given; text as UTF-8 (a lone surrogate stays one, and fails to parse later)."""
    return payload if isinstance(payload, bytes) else payload.encode("utf-8", "surrogatepass")


def _document_start(data: bytes) -> int:
    """Where the XML document proper begins: its declaration, else the first GeoReport root
    tag, within the first 64 KiB (0 when the answer already starts there)."""
    found = ANY_ROOT.search(data, 0, HEAD_BYTES)
    return found.start() if found else 0


def _item_pattern(item: str) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    name = re.escape(item.encode())
    return (
        re.compile(rb"<(?:[A-Za-z_][\w.-]{0,40}:)?" + name + rb"(?=[\s/>])"),
        re.compile(rb"</(?:[A-Za-z_][\w.-]{0,40}:)?" + name + rb"\s*>"),
    )


def _recover_xml_items(
    payload: bytes | str, item: str
) -> tuple[list[tuple[int, Element | None, str]], int] | None:
    """Every complete ``<item>`` element of an answer that is not well-formed, each parsed on
    its own by defusedxml (DTDs and entities still refused), in order: (position, element or
    ``None`` when dropped, the reason). ``None`` when no complete element could be read.

    The answer's namespace declarations and encoding go with each element, so that
    ``xsi:nil`` and non-UTF-8 answers read as they would whole.
    """
    data = _as_bytes(payload)
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise IngestError("The Open311 answer was refused: it declares a DTD or entities.")
    start_re, end_re = _item_pattern(item)
    starts = list(itertools.islice(start_re.finditer(data), MAX_RECOVERED_RECORDS + 1))
    if not starts:
        return None
    if len(starts) > MAX_RECOVERED_RECORDS:
        raise IngestError(
            f"The Open311 answer is not well-formed XML and holds more than "
            f"{MAX_RECOVERED_RECORDS:,} records to recover; ask for a shorter date window."
        )
    head = data[: min(starts[0].start(), HEAD_BYTES)]
    declaration = b""
    encoding = XML_ENCODING.search(head) if isinstance(payload, bytes) else None
    if encoding:
        try:
            codecs.lookup(encoding.group(1).decode("ascii"))
            declaration = b'<?xml version="1.0" encoding="' + encoding.group(1) + b'"?>'
        except LookupError:
            declaration = b""
    wrapper = b"<triage-recovered" + b"".join(m.group(0) for m in XMLNS.finditer(head)) + b">"
    found: list[tuple[int, Element | None, str]] = []
    last_end = 0
    for position, match in enumerate(starts, start=1):
        limit = starts[position].start() if position < len(starts) else len(data)
        tag_end = data.find(b">", match.end(), limit)
        if tag_end < 0:
            found.append((position, None, CUT_OFF))
            continue
        if data[tag_end - 1 : tag_end] == b"/":
            end = tag_end + 1
        else:
            closing = end_re.search(data, tag_end + 1, limit)
            if closing is None:
                found.append((position, None, CUT_OFF))
                continue
            end = closing.end()
        last_end = end
        chunk = data[match.start() : end]
        if len(chunk) > MAX_RECORD_BYTES:
            found.append((position, None, NOT_WELL_FORMED))
            continue
        try:
            holder = fromstring(
                declaration + wrapper + chunk + b"</triage-recovered>", forbid_dtd=True
            )
            found.append((position, holder[0], ""))
        except (DefusedXmlException, ParseError, ValueError, UnicodeError, IndexError):
            found.append((position, None, NOT_WELL_FORMED))
    if not any(element is not None for _, element, _ in found):
        return None
    # After a whole last record, only closing tags may follow: anything else (nothing, half
    # a tag, the start of another record) means the answer was cut there.
    whole_last = last_end > starts[-1].start()
    cut_after_last = whole_last and CLOSING_TAIL.fullmatch(data, last_end) is None
    return found, len(found) + 1 if cut_after_last else 0


def _json_value(payload: bytes | str) -> Any:
    _check_size(payload)
    try:
        if isinstance(payload, bytes):
            payload = payload.decode("utf-8-sig")
        return json.loads(payload)
    except UnicodeDecodeError:
        raise IngestError("The Open311 answer is not UTF-8 text.") from None
    except RecursionError:
        raise IngestError("The Open311 answer nests JSON too deeply.") from None
    except ValueError as exc:
        raise IngestError(f"The Open311 answer is not valid JSON: {exc}.") from None


def _recover_json_items(payload: bytes | str) -> tuple[list[Any], bool] | None:
    """The complete items of a JSON list answer that was cut off (a bare list, or one under a
    ``service_requests``/``requests``/``services`` key), and whether anything was left over.
    ``None`` when no complete object could be read."""
    try:
        text = payload.decode("utf-8-sig") if isinstance(payload, bytes) else payload
    except UnicodeDecodeError:
        return None
    text = text.lstrip("\ufeff \t\r\n")
    wrapped = JSON_WRAPPER.match(text)
    if wrapped:
        position = wrapped.end()
    elif text.startswith("["):
        position = 1
    else:
        return None
    decoder = json.JSONDecoder()
    items: list[Any] = []
    leftover = True
    while True:
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        if position >= len(text):
            break
        if text[position] == "]" and not items:
            leftover = False
            break
        try:
            value, end = decoder.raw_decode(text, position)
        except (ValueError, RecursionError):
            break
        if end >= len(text) and not isinstance(value, dict | list):
            break  # a number or word at the very end may be the start of a longer one
        items.append(value)
        position = end
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        if position < len(text) and text[position] == ",":
            position += 1
            continue
        leftover = position >= len(text) or text[position] != "]"
        break
    if not any(isinstance(value, Mapping) for value in items):
        return None
    return items, leftover


def dropped_count(rejections: Sequence[Rejection]) -> int:
    """How many records an answer lost to being cut off or malformed (see ``parse_requests``)."""
    return sum(1 for r in rejections if r.reason.startswith(DROPPED))


def _local(tag: object) -> str:
    """Tag name without its namespace (a few servers wrap the GeoReport tags in one)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _element_fields(element: Element) -> dict[str, str]:
    """Child tag -> text, with empty and ``xsi:nil`` elements as the empty string."""
    fields: dict[str, str] = {}
    for child in element:
        name = _local(child.tag)
        if not name or name in fields:
            continue
        if child.get(XSI_NIL, "").lower() == "true":
            fields[name] = ""
        else:
            fields[name] = "".join(child.itertext()) if len(child) else (child.text or "")
    return fields


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "nan"
    if isinstance(value, int | str):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _error_fields(element: Element) -> dict[str, str]:
    """An ``<error>``'s code and description; a bare ``<error>text</error>`` (or text beside
    the code) is its description."""
    fields = _element_fields(element)
    if not fields.get("description", "").strip():
        loose = [element.text or "", *(child.tail or "" for child in element)]
        text = " ".join(" ".join(loose).split()) or fields.get("message", "")
        if not text and not len(element):
            text = "".join(element.itertext())
        fields["description"] = text
    return fields


def _raise_if_error_document(root: Element) -> None:
    name = _local(root.tag)
    if name == "error":
        _raise_errors([_error_fields(root)])
    if name != "errors":
        return
    errors = [_error_fields(error) for error in root if _local(error.tag) == "error"]
    if not errors and " ".join("".join(root.itertext()).split()):
        errors = [{"description": "".join(root.itertext())}]
    _raise_errors(errors)


def _raise_errors(errors: list[dict[str, str]]) -> None:
    first = errors[0] if errors else {}
    code_text = first.get("code", "").strip()
    code = int(code_text) if code_text.isdigit() and len(code_text) < 6 else None
    description = " ".join(first.get("description", "").split())[:300] or "no description"
    extra = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    label = f"error {code_text[:20]}" if code_text else "an error"
    raise Open311ServerError(
        f"The Open311 server answered with {label}: {description}{extra}", code=code
    )


def _is_json_error_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(item, Mapping)
            and "description" in item
            and "code" in item
            and "service_request_id" not in item
            and "service_code" not in item
            for item in value
        )
    )


def _json_items(value: Any, wrappers: tuple[str, ...]) -> list[Any]:
    if _is_json_error_list(value):
        _raise_errors([{k: _json_text(v) for k, v in item.items()} for item in value])
    if isinstance(value, Mapping):
        if "errors" in value and isinstance(value["errors"], list):
            _raise_errors(
                [
                    {k: _json_text(v) for k, v in dict(e).items()}
                    for e in value["errors"]
                    if isinstance(e, Mapping)
                ]
            )
        for key in wrappers:
            if isinstance(value.get(key), list):
                return list(value[key])
        error = value.get("error")
        if isinstance(error, Mapping):
            _raise_errors([{k: _json_text(v) for k, v in error.items()}])
        if isinstance(error, str) and error.strip():
            _raise_errors([{"description": error, "code": _json_text(value.get("code"))}])
        raise IngestError(f"The Open311 JSON answer has no list of {wrappers[0]}.")
    if isinstance(value, list):
        return value
    raise IngestError("The Open311 JSON answer is not a list.")


def _records(
    payload: bytes | str, fmt: str | None, root_names: tuple[str, ...], item: str
) -> tuple[list[dict[str, str]], list[Rejection]]:
    """Items of a list answer as text dicts; items that are not records become rejections."""
    fmt = fmt or detect_format(payload)
    rejections: list[Rejection] = []
    records: list[dict[str, str]] = []
    if fmt == "xml":
        try:
            root = _xml_root(payload)
        except IngestError as exc:
            if "not well-formed" not in str(exc):
                raise
            recovered = _recover_xml_items(payload, item)
            if recovered is None:
                raise
            found, cut_row = recovered
            for position, element, reason in found:
                if element is None:
                    rejections.append(Rejection(position, "", reason))
                else:
                    records.append({"_row": str(position), **_element_fields(element)})
            if cut_row:
                rejections.append(Rejection(cut_row, "", CUT_OFF_LIST))
            return records, rejections
        _raise_if_error_document(root)
        if _local(root.tag) not in root_names:
            raise IngestError(
                f"The Open311 answer is a <{_local(root.tag)}> document, not <{root_names[0]}>."
            )
        for position, element in enumerate(root, start=1):
            if not isinstance(element.tag, str):
                continue  # comments and processing instructions carry no data
            if _local(element.tag) != item:
                rejections.append(
                    Rejection(position, "", f"unexpected <{_local(element.tag)}> element")
                )
                continue
            records.append({"_row": str(position), **_element_fields(element)})
        return records, rejections
    if fmt != "json":
        raise IngestError(f"Unknown Open311 format {fmt!r} (use xml or json).")
    try:
        items = _json_items(_json_value(payload), root_names)
    except IngestError as exc:
        if "not valid JSON" not in str(exc) and "nests JSON" not in str(exc):
            raise
        salvaged = _recover_json_items(payload)
        if salvaged is None:
            raise
        items, leftover = salvaged
        items = _json_items(items, root_names)
        if leftover:
            rejections.append(Rejection(len(items) + 1, "", CUT_OFF_LIST))
    for position, value in enumerate(items, start=1):
        if not isinstance(value, Mapping):
            rejections.append(Rejection(position, "", "the list item is not an object"))
            continue
        records.append({"_row": str(position), **{str(k): _json_text(v) for k, v in value.items()}})
    return records, rejections


def parse_requests(
    payload: bytes | str, fmt: str | None = None, *, tz: str = "UTC"
) -> tuple[pd.DataFrame, list[Rejection]]:
    """Service requests (``GET requests.xml|json``) as a report frame plus rejections.

    Returns ``triage.ingest.records.REPORT_COLUMNS``; ``row`` is the position of the request
    in the answer. ``raw_category`` is the service name (else its code); zoneless times are
    local times of ``tz``. An answer cut off mid-record (or with a malformed record) keeps
    every complete record; each lost one is a rejection whose reason starts ``dropped:``
    (``dropped_count``). Raises ``Open311ServerError`` for an error document (its text kept,
    also for a bare ``<error>`` root) and ``IngestError`` for anything that is not a GeoReport
    list of requests, or when not one complete record could be read.
    """
    records, rejections = _records(payload, fmt, REQUEST_ROOTS, "request")
    raw_rows: list[dict[str, object]] = []
    for record in records:
        row = int(record["_row"])
        ident = record.get("service_request_id", "").strip()
        if not ident and record.get("token", "").strip():
            rejections.append(
                Rejection(
                    row,
                    "service_request_id",
                    "only a token, no request id yet",
                    record["token"].strip()[:200],
                )
            )
            continue
        status = record.get("status", "")
        updated = record.get("updated_datetime", "")
        raw_rows.append(
            {
                "row": row,
                "id": ident,
                "requested": record.get("requested_datetime", ""),
                "updated": updated,
                # GeoReport has no closing time: a closed request closed when last updated.
                "closed": updated if status.strip().lower() == "closed" else "",
                "category": record.get("service_name", "").strip()
                or record.get("service_code", ""),
                "status": status,
                "description": record.get("description", ""),
                "address": record.get("address", ""),
                "district": "",
                "lat": record.get("lat", ""),
                "lon": record.get("long", record.get("lon", "")),
            }
        )
    frame, bad = build_reports(pd.DataFrame(raw_rows), tz=tz, surrogates=True)
    return frame, sorted([*rejections, *bad], key=lambda r: r.row)


def parse_services(
    payload: bytes | str, fmt: str | None = None
) -> tuple[pd.DataFrame, list[Rejection]]:
    """The service list (``GET services.xml|json``): one row per service with a code.

    Columns: service_code, service_name, group, description (text), metadata (bool),
    type (text). Services without a code are rejected.
    """
    records, rejections = _records(payload, fmt, ("services",), "service")
    rows = []
    for record in records:
        code = record.get("service_code", "").strip()
        if not code:
            rejections.append(Rejection(int(record["_row"]), "service_code", "no service code"))
            continue
        rows.append(
            {
                "service_code": code,
                "service_name": record.get("service_name", "").strip() or code,
                "group": record.get("group", "").strip(),
                "description": record.get("description", "").strip(),
                "metadata": record.get("metadata", "").strip().lower() == "true",
                "type": record.get("type", "").strip(),
            }
        )
    return pd.DataFrame(rows, columns=list(SERVICE_COLUMNS)), rejections


def parse_service_definition(payload: bytes | str, fmt: str | None = None) -> dict[str, Any]:
    """A service definition (``GET services/{code}``): its code and attribute list."""
    fmt = fmt or detect_format(payload)
    if fmt == "json":
        value = _json_value(payload)
        if _is_json_error_list(value):
            _json_items(value, ("attributes",))
        if not isinstance(value, Mapping):
            raise IngestError("The service definition is not a JSON object.")
        attributes = value.get("attributes") or []
        if not isinstance(attributes, list):
            raise IngestError("The service definition's attributes are not a list.")
        return {
            "service_code": _json_text(value.get("service_code")),
            "attributes": [
                {
                    **{k: _json_text(v) for k, v in a.items() if k != "values"},
                    "values": [
                        {"key": _json_text(v.get("key")), "name": _json_text(v.get("name"))}
                        for v in (a.get("values") or [])
                        if isinstance(v, Mapping)
                    ],
                }
                for a in attributes
                if isinstance(a, Mapping)
            ],
        }
    root = _xml_root(payload)
    _raise_if_error_document(root)
    if _local(root.tag) != "service_definition":
        raise IngestError(f"Expected <service_definition>, got <{_local(root.tag)}>.")
    fields = _element_fields(root)
    attributes = []
    for holder in root:
        if _local(holder.tag) != "attributes":
            continue
        for attribute in holder:
            entry: dict[str, Any] = {
                k: v.strip() for k, v in _element_fields(attribute).items() if k != "values"
            }
            entry["values"] = [
                {k: v.strip() for k, v in _element_fields(value).items()}
                for values in attribute
                if _local(values.tag) == "values"
                for value in values
            ]
            attributes.append(entry)
    return {"service_code": fields.get("service_code", "").strip(), "attributes": attributes}


def parse_discovery(payload: bytes | str, fmt: str | None = None) -> dict[str, Any]:
    """A discovery document: contact text and endpoints (url, specification, type, formats).

    ``changeset`` values are kept as given: Boston's ``2011-09-1 17:35`` is not ISO 8601.
    """
    fmt = fmt or detect_format(payload)
    if fmt == "json":
        value = _json_value(payload)
        if not isinstance(value, Mapping):
            raise IngestError("The discovery document is not a JSON object.")
        endpoints = value.get("endpoints") or []
        if not isinstance(endpoints, list):
            raise IngestError("The discovery document's endpoints are not a list.")
        return {
            "changeset": _json_text(value.get("changeset")),
            "contact": _json_text(value.get("contact")),
            "key_service": _json_text(value.get("key_service")),
            "endpoints": [
                {
                    "url": _json_text(e.get("url")),
                    "specification": _json_text(e.get("specification")),
                    "type": _json_text(e.get("type")),
                    "changeset": _json_text(e.get("changeset")),
                    "formats": [_json_text(f) for f in (e.get("formats") or [])],
                }
                for e in endpoints
                if isinstance(e, Mapping)
            ],
        }
    root = _xml_root(payload)
    _raise_if_error_document(root)
    if _local(root.tag) != "discovery":
        raise IngestError(f"Expected <discovery>, got <{_local(root.tag)}>.")
    fields = _element_fields(root)
    endpoints = []
    for holder in root:
        if _local(holder.tag) != "endpoints":
            continue
        for endpoint in holder:
            info = _element_fields(endpoint)
            formats = [
                (f.text or "").strip()
                for child in endpoint
                if _local(child.tag) == "formats"
                for f in child
            ]
            endpoints.append(
                {
                    "url": info.get("url", "").strip(),
                    "specification": info.get("specification", "").strip(),
                    "type": info.get("type", "").strip(),
                    "changeset": info.get("changeset", "").strip(),
                    "formats": formats,
                }
            )
    return {
        "changeset": fields.get("changeset", "").strip(),
        "contact": fields.get("contact", "").strip(),
        "key_service": fields.get("key_service", "").strip(),
        "endpoints": endpoints,
    }
