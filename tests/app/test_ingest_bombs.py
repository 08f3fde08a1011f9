"""Compressed input is bounded before it is inflated: XLSX (zip) bombs, parts that lie about
their size, and the same refusal through the department bulk-upload callback."""

from __future__ import annotations

import base64
import io
import json
import os
import struct
import subprocess
import sys
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import openpyxl
import pytest

from layouts import ids
from tests import webutil
from tests.webutil import WebEnv, post_callback, signed_in_client
from triage.ingest.errors import ExpansionLimitError, IngestError
from triage.ingest.indicators import read_indicator_file
from triage.settings import REPO_ROOT

MB = 1024 * 1024
BOMB_MB = 1000  # the sheet's one inline string: about 1 GB from a 1 MB file
UPLOAD_MAX_ROWS = 5000  # layouts.department.UPLOAD_MAX_ROWS: the upload's limit is 16 MB
SHEET = "xl/worksheets/sheet1.xml"
SHEET_HEAD = (
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
)
SHEET_TAIL = b"</t></is></c></row></sheetData></worksheet>"
UPLOAD_OUTPUT = "department-upload-preview-div.children"


def _workbook() -> bytes:
    """A real, small workbook: a header and one row."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["indicator", "period", "value"])
    sheet.append(["PW-01", "2026-01-05", 93.5])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _repeat(handle: IO[bytes], byte: bytes, megabytes: int) -> None:
    block = byte * MB
    for _ in range(megabytes):
        handle.write(block)


def _rebuild(
    replace: dict[str, Callable[[IO[bytes]], None]],
    *,
    extra: dict[str, Callable[[IO[bytes]], None]] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    """The small workbook with some parts written again (streamed, so never held whole)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(_workbook())) as source,
        zipfile.ZipFile(out, "w", compression) as target,
    ):
        writers = {info.filename: None for info in source.infolist()}
        writers.update(replace)
        writers.update(extra or {})
        for name, writer in writers.items():
            if writer is None:
                target.writestr(name, source.read(name))
                continue
            with target.open(name, "w", force_zip64=True) as handle:
                writer(handle)
    return out.getvalue()


def _sheet_bomb(handle: IO[bytes]) -> None:
    handle.write(SHEET_HEAD)
    _repeat(handle, b"A", BOMB_MB)
    handle.write(SHEET_TAIL)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1 MB .xlsx whose sheet inlines a 1,000 MB string (built once: about 3 s)."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.xlsx"
    path.write_bytes(_rebuild({SHEET: _sheet_bomb}))
    return path


def _declare(data: bytes, name: str, size: int, crc: int) -> bytes:
    """``data`` with ``name``'s declared size and CRC replaced in both of its zip headers."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        compressed = archive.getinfo(name).compress_size
    patched = bytearray(data)
    # (signature, where CRC, compressed and full size start, where the name starts, its length)
    for signature, sizes_at, name_at, length_at in (
        (b"PK\x03\x04", 14, 30, 26),
        (b"PK\x01\x02", 16, 46, 28),
    ):
        at = patched.find(signature)
        while at >= 0:
            (length,) = struct.unpack_from("<H", patched, at + length_at)
            if patched[at + name_at : at + name_at + length] == name.encode():
                struct.pack_into("<LLL", patched, at + sizes_at, crc, compressed, size)
            at = patched.find(signature, at + 4)
    return bytes(patched)


RSS_PROBE = """
import json, resource, sys, time
from pathlib import Path
from triage.ingest.indicators import read_indicator_file

def status_kb(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])

read_indicator_file(Path(sys.argv[2]).read_bytes(), filename="warm.xlsx")  # imports openpyxl
data = Path(sys.argv[1]).read_bytes()
try:  # Linux: restart the peak (VmHWM) from the current resident size
    Path("/proc/self/clear_refs").write_text("5")
    before = status_kb("VmRSS")
except OSError:  # else growth beyond the peak so far
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
cpu = time.process_time()
messages = []
for max_rows in (5000, 100000):  # the upload's limit and the command line's
    try:
        read_indicator_file(data, filename="bomb.xlsx", max_rows=max_rows)
    except Exception as exc:
        messages.append(f"{type(exc).__name__}: {exc}")
cpu = time.process_time() - cpu
peak = status_kb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"cpu": cpu, "growth_mb": (peak - before) / 1024, "messages": messages}))
"""


def test_bomb001_xlsx_bomb_is_refused_at_once_and_memory_stays_flat(
    bomb: Path, tmp_path: Path
) -> None:
    """A fresh process, warmed up with a small workbook: the peak of its resident memory
    while it refuses the bomb, less its resident memory before."""
    small = tmp_path / "small.xlsx"
    small.write_bytes(_workbook())
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    probe = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, str(bomb), str(small)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    figures = json.loads(probe.stdout.strip().splitlines()[-1])
    print(
        f"bomb: {bomb.stat().st_size / MB:.1f} MB file, refused twice in {figures['cpu']:.4f}s "
        f"of CPU, peak RSS growth {figures['growth_mb']:.1f} MB"
    )
    assert figures["messages"] == [
        "ExpansionLimitError: The workbook's sheet 1 expands to 1,000 MB; the limit is 16 MB.",
        "ExpansionLimitError: The workbook's sheet 1 expands to 1,000 MB; the limit is 195 MB.",
    ]
    assert figures["cpu"] < 0.2
    assert figures["growth_mb"] < 50


def _measured(call: Callable[[], Any]) -> tuple[BaseException | None, float, float]:
    """What ``call`` raised, its CPU seconds, and the peak of memory it allocated (MB)."""
    tracemalloc.start()
    cpu = time.process_time()
    raised: BaseException | None = None
    try:
        call()
    except Exception as exc:
        raised = exc
    cpu = time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1] / MB
    tracemalloc.stop()
    return raised, cpu, peak


def test_bomb002_a_part_that_holds_more_than_it_declares_is_refused() -> None:
    """zipfile inflates a part whole before cutting it to its declared size: a workbook part
    declaring its real 546 bytes (and their CRC) but holding 150 MB more must never get there."""
    real = zipfile.ZipFile(io.BytesIO(_workbook())).read("xl/workbook.xml")

    def padded(handle: IO[bytes]) -> None:
        handle.write(real)
        _repeat(handle, b" ", 150)

    liar = _declare(
        _rebuild({"xl/workbook.xml": padded}), "xl/workbook.xml", len(real), zlib.crc32(real)
    )
    with zipfile.ZipFile(io.BytesIO(liar)) as archive:
        assert archive.getinfo("xl/workbook.xml").file_size == len(real)
    raised, cpu, peak = _measured(lambda: read_indicator_file(liar, filename="liar.xlsx"))
    print(f"liar: refused in {cpu:.3f}s of CPU, peak allocation {peak:.1f} MB")
    assert isinstance(raised, ExpansionLimitError), raised
    assert str(raised) == (
        f"The workbook's part 'xl/workbook.xml' holds more than the {len(real)} bytes it "
        "declares; the file is refused."
    )
    assert cpu < 0.5 and peak < 10


def _zeros(megabytes: int) -> Callable[[IO[bytes]], None]:
    return lambda handle: _repeat(handle, b"\0", megabytes)


def test_bomb003_ratio_total_parts_and_odd_archives_are_refused() -> None:
    def refused(data: bytes, kind: type[IngestError] = ExpansionLimitError) -> str:
        raised, cpu, peak = _measured(
            lambda: read_indicator_file(data, filename="x.xlsx", max_rows=UPLOAD_MAX_ROWS)
        )
        assert type(raised) is kind, raised
        assert cpu < 0.5 and peak < 10, (cpu, peak)
        return str(raised)

    # Under the size limit, but compressed as only a bomb is.
    assert refused(_rebuild({}, extra={"xl/media/zeros.bin": _zeros(10)})).startswith(
        "The workbook's part 'xl/media/zeros.bin' expands 1,0"
    )
    # Each part is small; together they pass the limit.
    many = {f"xl/media/part{i}.bin": _zeros(1) for i in range(17)}
    assert refused(_rebuild({}, extra=many)) == (
        "The workbook expands to 17 MB; the limit is 16 MB."
    )
    parts = io.BytesIO()
    with zipfile.ZipFile(parts, "w") as archive:
        for i in range(10_001):
            archive.writestr(f"{i}", b"")
    assert refused(parts.getvalue()) == (
        "The workbook has more than 10,000 parts; a spreadsheet has a few dozen."
    )
    odd = _rebuild({}, compression=zipfile.ZIP_BZIP2)
    assert "compressed in a way spreadsheet programs do not use" in refused(odd, IngestError)
    encrypted = bytearray(_workbook())
    at = encrypted.find(b"PK\x01\x02")
    struct.pack_into("<H", encrypted, at + 8, struct.unpack_from("<H", encrypted, at + 8)[0] | 1)
    assert "encrypted" in refused(bytes(encrypted), IngestError)
    damaged = bytearray(_workbook())
    name_length, extra_length = struct.unpack_from("<HH", damaged, 26)
    start = 30 + name_length + extra_length
    damaged[start : start + 8] = b"\xff" * 8  # the first part's deflate stream
    assert "could not be opened" in refused(bytes(damaged), IngestError)


def test_bomb004_real_workbooks_still_read_within_the_limits() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["indicator", "period", "value", "status", "note"])
    for i in range(UPLOAD_MAX_ROWS):
        sheet.append([f"PW-{i % 40:02d}", f"2026-01-{1 + i % 28:02d}", i * 0.5, "", "ok"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    frame, rejections = read_indicator_file(
        buffer.getvalue(), filename="week.xlsx", max_rows=UPLOAD_MAX_ROWS
    )
    assert len(frame) == UPLOAD_MAX_ROWS and rejections == []


@pytest.fixture
def http_env(tmp_path: Path) -> Iterator[WebEnv]:
    web = WebEnv.create(tmp_path)
    web.client().get("/healthz")
    yield web
    web.dispose()


def test_bomb005_upload_callback_refuses_the_bomb_with_its_message(
    http_env: WebEnv, bomb: Path
) -> None:
    """The real callback POST a browser sends: 200 with the sentence, not a 500 or a stall."""
    head = http_env.principal(http_env.head_username())
    client = signed_in_client(http_env, head.username)
    dependency = webutil.find_dependency(webutil.dependencies(client), UPLOAD_OUTPUT)
    contents = "data:application/octet-stream;base64," + base64.b64encode(bomb.read_bytes()).decode(
        "ascii"
    )
    values = {
        f"{ids.DEPT_UPLOAD_GATE_STORE}.data": {"filename": "week.xlsx", "at": 1},
        f"{ids.DEPARTMENT_SELECT}.value": None,
        f"{ids.DEPT_UPLOAD_COMMIT_BUTTON}.n_clicks": 0,
        f"{ids.DEPT_UPLOAD_FILE_UPLOAD}.contents": contents,
        f"{ids.DEPT_UPLOAD_FILE_UPLOAD}.filename": "week.xlsx",
        f"{ids.DEPT_UPLOAD_DIGEST_STORE}.data": None,
        f"{ids.DEPT_UPLOAD_COMMITTED_STORE}.data": 0,
    }
    expected = "The workbook's sheet 1 expands to 1,000 MB; the limit is 16 MB."
    for commit in (False, True):
        values[f"{ids.DEPT_UPLOAD_COMMIT_BUTTON}.n_clicks"] = int(commit)
        body = webutil.callback_body(dependency, values)
        if commit:  # a forged commit: no preview came first
            body["changedPropIds"] = [f"{ids.DEPT_UPLOAD_COMMIT_BUTTON}.n_clicks"]
        cpu = time.process_time()
        response = post_callback(client, body)
        cpu = time.process_time() - cpu
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        answer = response.get_json()["response"]
        assert expected in str(answer[ids.DEPT_UPLOAD_PREVIEW_DIV]["children"])
        if commit:
            assert expected in str(answer[ids.DEPT_UPLOAD_RESULT_DIV]["children"])
        print(f"upload {'commit' if commit else 'preview'}: refused in {cpu:.3f}s of CPU")
        assert cpu < 1.0, cpu  # decoding and refusing, not inflating a gigabyte
