"""REPORT parsing on the shared fixtures and on every variant AWS documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aws.logs.report_parser import (
    ReportRecord,
    parse_report_line,
    parse_report_log,
    timed_out_request_id,
)


def test_text_fixture_lines_space_and_tab_separated(fixtures_dir: Path) -> None:
    text = (fixtures_dir / "lambda-logs" / "report-lines.txt").read_text()
    records = parse_report_log(text)
    assert records == [
        ReportRecord(
            request_id="8f507cfc-xmpl-4697-b07a-ac58fc914c95",
            duration_ms=15.74,
            billed_duration_ms=16,
            memory_size_mb=128,
            max_memory_used_mb=56,
            init_duration_ms=130.49,
        ),
        ReportRecord(
            request_id="1c8df7d3-xmpl-46da-9778-518e6eca8125",
            duration_ms=2.75,
            billed_duration_ms=3,
            memory_size_mb=128,
            max_memory_used_mb=56,
            init_duration_ms=113.51,
        ),
        ReportRecord(
            request_id="ff09e3f9-691f-4006-b566-ce40b25ba4eb",
            duration_ms=558.78,
            billed_duration_ms=669,
            memory_size_mb=128,
            max_memory_used_mb=38,
            init_duration_ms=109.44,
        ),
    ]
    assert all(record.is_cold for record in records)
    assert [record.init_billed for record in records] == [False, False, True]
    assert not any(record.timed_out or record.out_of_memory for record in records)


def test_json_fixture_lines(fixtures_dir: Path) -> None:
    text = (fixtures_dir / "lambda-logs" / "platform-report.jsonl").read_text()
    records = parse_report_log(text)
    assert records == [
        ReportRecord(
            request_id="6d68ca91-49c9-448d-89b8-7ca3e6dc66aa",
            duration_ms=693.92,
            billed_duration_ms=694,
            memory_size_mb=128,
            max_memory_used_mb=84,
            init_duration_ms=397.68,
        ),
        ReportRecord(
            request_id="06e8554f-3109-426f-8992-0c834de2ac20",
            duration_ms=329.177,
            billed_duration_ms=330,
            memory_size_mb=1792,
            max_memory_used_mb=125,
            init_duration_ms=503.083,
            status="success",
        ),
    ]


def test_other_lines_are_not_reports() -> None:
    for line in (
        "",
        "START RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95 Version: $LATEST",
        "END RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95",
        "XRAY TraceId: 1-5e34a614-10bdxmplf1fb44f07bc535a1 SegmentId: 07f5xmpl2d1f6f85",
        '{"type": "platform.start", "record": {"requestId": "x"}}',
        '{"level": "INFO", "message": "REPORT RequestId: inside a message"}',
        "REPORT RequestId: abc Duration: fast ms",
        "{not json",
        "INIT_REPORT Init Duration: 10000.00 ms\tPhase: init\tStatus: timeout",
        "RESTORE_REPORT Restore Duration: 512.34 ms",
        '{"type": "platform.initReport", "record": {"initializationType": "on-demand", '
        '"phase": "init", "metrics": {"durationMs": 125.3}}}',
    ):
        assert parse_report_line(line) is None, line


def test_warm_text_line_with_timestamp_prefix() -> None:
    line = (
        "2024-05-01T10:00:00.000Z\tREPORT RequestId: 3f1c-aa Duration: 101.25 ms\t"
        "Billed Duration: 102 ms\tMemory Size: 1024 MB\tMax Memory Used: 300 MB\t"
    )
    record = parse_report_line(line)
    assert record == ReportRecord(
        request_id="3f1c-aa",
        duration_ms=101.25,
        billed_duration_ms=102,
        memory_size_mb=1024,
        max_memory_used_mb=300,
    )
    assert not record.is_cold
    assert record.init_billed is None


def test_text_status_timeout() -> None:
    line = (
        "REPORT RequestId: 5f2e-timeout Duration: 3000.00 ms Billed Duration: 3000 ms "
        "Memory Size: 128 MB Max Memory Used: 64 MB Status: timeout"
    )
    record = parse_report_line(line)
    assert record is not None
    assert record.status == "timeout"
    assert record.timed_out
    assert not record.out_of_memory


def test_text_status_error_with_error_type_out_of_memory() -> None:
    line = (
        "REPORT RequestId: 9d1e-oom\tDuration: 812.44 ms\tBilled Duration: 813 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 128 MB\tStatus: error\t"
        "Error Type: Runtime.OutOfMemory"
    )
    record = parse_report_line(line)
    assert record is not None
    assert (record.status, record.error_type) == ("error", "Runtime.OutOfMemory")
    assert record.out_of_memory
    assert not record.timed_out


def test_error_type_other_than_memory_is_not_out_of_memory() -> None:
    line = (
        "REPORT RequestId: 11-err Duration: 5.00 ms Billed Duration: 5 ms Memory Size: 512 MB "
        "Max Memory Used: 80 MB Status: error Error Type: Runtime.ExitError"
    )
    record = parse_report_line(line)
    assert record is not None
    assert record.error_type == "Runtime.ExitError"
    assert not record.out_of_memory


def test_old_line_with_memory_exhausted_counts_as_out_of_memory() -> None:
    line = (
        "REPORT RequestId: 77-old Duration: 2000.10 ms Billed Duration: 2001 ms "
        "Memory Size: 256 MB Max Memory Used: 256 MB"
    )
    record = parse_report_line(line)
    assert record is not None and record.out_of_memory


def test_snapstart_restore_fields() -> None:
    line = (
        "REPORT RequestId: 1a2b-snap Duration: 120.30 ms Billed Duration: 465 ms "
        "Memory Size: 512 MB Max Memory Used: 160 MB Restore Duration: 450.58 ms "
        "Billed Restore Duration: 344 ms"
    )
    record = parse_report_line(line)
    assert record is not None
    assert record.duration_ms == 120.30
    assert record.restore_duration_ms == 450.58
    assert record.billed_restore_duration_ms == 344
    assert record.init_duration_ms is None
    assert record.is_cold


def _json_report(record: dict[str, object]) -> str:
    return json.dumps(
        {"time": "2026-03-01T12:00:00.000Z", "type": "platform.report", "record": record}
    )


def test_json_timeout_with_spans_and_tracing() -> None:
    line = _json_report(
        {
            "requestId": "4c1e-json-timeout",
            "metrics": {
                "durationMs": 3000.0,
                "billedDurationMs": 3000,
                "memorySizeMB": 256,
                "maxMemoryUsedMB": 90,
            },
            "tracing": {
                "spanId": "54565fb41ac79632",
                "type": "X-Amzn-Trace-Id",
                "value": "Root=1-62e900b2-710d76f009d6e7785905449a;Parent=0efbd19962d95b05",
            },
            "spans": [
                {"name": "responseLatency", "start": "2026-03-01T12:00:00.000Z", "durationMs": 1.2},
                {
                    "name": "responseDuration",
                    "start": "2026-03-01T12:00:03.000Z",
                    "durationMs": 0.1,
                },
            ],
            "status": "timeout",
        }
    )
    record = parse_report_line(line)
    assert record is not None
    assert record.timed_out
    assert record.max_memory_used_mb == 90
    assert not record.is_cold


def test_json_error_with_snapstart_and_error_type() -> None:
    line = _json_report(
        {
            "requestId": "4c1e-json-error",
            "metrics": {
                "durationMs": 50.5,
                "billedDurationMs": 300,
                "memorySizeMB": 1024,
                "maxMemoryUsedMB": 1024,
                "restoreDurationMs": 400.2,
                "billedRestoreDurationMs": 249,
            },
            "status": "error",
            "errorType": "Runtime.OutOfMemory",
        }
    )
    record = parse_report_line(line)
    assert record == ReportRecord(
        request_id="4c1e-json-error",
        duration_ms=50.5,
        billed_duration_ms=300,
        memory_size_mb=1024,
        max_memory_used_mb=1024,
        restore_duration_ms=400.2,
        billed_restore_duration_ms=249,
        status="error",
        error_type="Runtime.OutOfMemory",
    )
    assert record.out_of_memory and record.is_cold


def test_json_missing_metric_is_not_a_report() -> None:
    line = _json_report({"requestId": "x", "metrics": {"durationMs": 1.0}})
    assert parse_report_line(line) is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "2024-01-01T00:00:03.012Z 8f507cfc-0000-4697-b07a-ac58fc914c95 "
            "Task timed out after 3.00 seconds",
            "8f507cfc-0000-4697-b07a-ac58fc914c95",
        ),
        ("Task timed out after 900.10 seconds", ""),
        ("START RequestId: x", None),
    ],
)
def test_timed_out_request_id(line: str, expected: str | None) -> None:
    assert timed_out_request_id(line) == expected


def test_task_timed_out_line_marks_the_matching_record() -> None:
    text = "\n".join(
        [
            "START RequestId: 8f507cfc-0000-4697-b07a-ac58fc914c95 Version: $LATEST",
            "2024-01-01T00:00:03.012Z 8f507cfc-0000-4697-b07a-ac58fc914c95 "
            "Task timed out after 3.00 seconds",
            "END RequestId: 8f507cfc-0000-4697-b07a-ac58fc914c95",
            "REPORT RequestId: 8f507cfc-0000-4697-b07a-ac58fc914c95 Duration: 3003.45 ms "
            "Billed Duration: 3000 ms Memory Size: 128 MB Max Memory Used: 70 MB",
            "REPORT RequestId: 11111111-0000-4697-b07a-ac58fc914c95 Duration: 5.00 ms "
            "Billed Duration: 5 ms Memory Size: 128 MB Max Memory Used: 70 MB",
        ]
    )
    records = parse_report_log(text)
    assert [(r.request_id[:8], r.timed_out) for r in records] == [
        ("8f507cfc", True),
        ("11111111", False),
    ]


def test_anonymous_timeout_line_applies_to_the_next_report() -> None:
    text = (
        "Task timed out after 1.00 seconds\n"
        "REPORT RequestId: aa Duration: 1001.00 ms Billed Duration: 1000 ms Memory Size: 128 MB "
        "Max Memory Used: 70 MB\n"
        "REPORT RequestId: bb Duration: 2.00 ms Billed Duration: 2 ms Memory Size: 128 MB "
        "Max Memory Used: 70 MB\n"
    )
    assert [r.timed_out for r in parse_report_log(text)] == [True, False]


def test_mixed_formats_in_one_log() -> None:
    text = (
        "REPORT RequestId: t1 Duration: 1.00 ms Billed Duration: 1 ms Memory Size: 128 MB "
        "Max Memory Used: 20 MB\n"
        + _json_report(
            {
                "requestId": "j1",
                "metrics": {
                    "durationMs": 2.0,
                    "billedDurationMs": 2,
                    "memorySizeMB": 128,
                    "maxMemoryUsedMB": 21,
                },
                "status": "success",
            }
        )
    )
    assert [r.request_id for r in parse_report_log(text)] == ["t1", "j1"]
