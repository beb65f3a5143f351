"""Seeding helpers shared by the scan tests and the scan benchmark (moto accounts)."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from datetime import datetime, timedelta
from typing import Any

ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/lambda-role"


def elf_header(machine: int, e_type: int = 3, big_endian: bool = False) -> bytes:
    """The first 64 bytes of a real ELF64 header for ``machine`` (62 x86_64, 183 aarch64)."""
    order = ">" if big_endian else "<"
    ident = b"\x7fELF" + bytes([2, 2 if big_endian else 1, 1, 0]) + bytes(8)
    rest = struct.pack(f"{order}HHI", e_type, machine, 1) + bytes(64 - 16 - 8)
    return ident + rest


def make_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def python_zip(marker: str = "") -> bytes:
    return make_zip({"app.py": f"def handler(event, context):\n    return {marker!r}\n".encode()})


def create_role(iam: Any) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    return str(
        iam.create_role(RoleName="lambda-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"][
            "Arn"
        ]
    )


def create_function(
    lam: Any,
    name: str,
    *,
    role: str,
    code: bytes,
    memory: int = 1024,
    timeout: int = 30,
    runtime: str = "python3.12",
    architectures: tuple[str, ...] = ("x86_64",),
    tags: dict[str, str] | None = None,
    log_format: str | None = None,
) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": runtime,
        "Role": role,
        "Handler": "app.handler",
        "Code": {"ZipFile": code},
        "MemorySize": memory,
        "Timeout": timeout,
        "Architectures": list(architectures),
        "Tags": tags or {},
    }
    if log_format:
        arguments["LoggingConfig"] = {"LogFormat": log_format}
    return dict(lam.create_function(**arguments))


def put_lambda_metric(
    cloudwatch: Any, function: str, metric: str, values: list[float], when: datetime
) -> None:
    cloudwatch.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [{"Name": "FunctionName", "Value": function}],
                "Value": value,
                "Timestamp": when - timedelta(minutes=index),
            }
            for index, value in enumerate(values)
        ],
    )


def write_log_lines(logs: Any, function: str, lines: list[str], when: datetime) -> None:
    group = f"/aws/lambda/{function}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="2026/11/26/[$LATEST]abc")
    base = int(when.timestamp() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName="2026/11/26/[$LATEST]abc",
        logEvents=[
            {"timestamp": base + index, "message": line} for index, line in enumerate(lines)
        ],
    )


def report_line(
    request_id: str, billed: int, used: int, memory: int, init: float | None = None
) -> str:
    line = (
        f"REPORT RequestId: {request_id}\tDuration: {billed - 0.5:.2f} ms\t"
        f"Billed Duration: {billed} ms\tMemory Size: {memory} MB\tMax Memory Used: {used} MB\t"
    )
    if init is not None:
        line += f"Init Duration: {init:.2f} ms\t"
    return line
