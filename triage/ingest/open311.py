"""Open311 GeoReport v2 answers (XML or JSON) to plain rows: pure functions, no network.

XML goes through defusedxml with DTDs forbidden; real servers' quirks (empty and ``xsi:nil``
elements, zoneless times, capitalised statuses, 0.0/0.0 for "no location") are tolerated.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
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
    raise IngestError("The Open311 answer is neither XML nor JSON.")


def _check_size(payload: bytes | str) -> None:
    if not payload.strip():
        raise IngestError("The Open311 answer is empty.")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise IngestError(
            f"The Open311 answer is larger than {MAX_PAYLOAD_BYTES // (1024 * 1024)} MiB; "
            "ask for a shorter date window."
        )


def _xml_root(payload: bytes | str) -> Element:
    _check_size(payload)
    try:
        return fromstring(payload, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise IngestError(
            f"The Open311 answer was refused: it declares a DTD or entities ({type(exc).__name__})."
        ) from None
    except ParseError as exc:
        raise IngestError(f"The Open311 answer is not well-formed XML: {exc}.") from None
    except (ValueError, UnicodeError, TypeError) as exc:
        raise IngestError(f"The Open311 answer could not be read as XML: {exc}.") from None


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


def _raise_if_error_document(root: Element) -> None:
    if _local(root.tag) != "errors":
        return
    errors = [_element_fields(error) for error in root if _local(error.tag) == "error"]
    _raise_errors(errors)


def _raise_errors(errors: list[dict[str, str]]) -> None:
    first = errors[0] if errors else {}
    code_text = first.get("code", "").strip()
    code = int(code_text) if code_text.isdigit() and len(code_text) < 6 else None
    description = first.get("description", "").strip()[:300] or "no description"
    extra = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    raise Open311ServerError(
        f"The Open311 server answered with error {code_text or '?'}: {description}{extra}",
        code=code,
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
        root = _xml_root(payload)
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
    items = _json_items(_json_value(payload), root_names)
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
    local times of ``tz``. Raises ``Open311ServerError`` for an error document and
    ``IngestError`` for anything that is not a GeoReport list of requests.
    """
    records, rejections = _records(
        payload, fmt, ("service_requests", "requests", "service_request"), "request"
    )
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
