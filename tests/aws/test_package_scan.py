"""Package scan: real ELF headers inside zips, the size cap, caching by CodeSha256."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from aws.package_scan import (
    PackageScanner,
    PackageTooLarge,
    download,
    elf_machine,
    is_arm64_candidate,
    scan_zip,
)
from aws.session import AwsSession
from fakes.scan_seed import elf_header, make_zip
from recommendations.snapshot import NativeBinary

X86_64, AARCH64 = 62, 183


def test_elf_machine_reads_e_machine_and_e_type() -> None:
    assert elf_machine(elf_header(X86_64)) == ("x86_64", 3)
    assert elf_machine(elf_header(AARCH64, e_type=2)) == ("aarch64", 2)
    assert elf_machine(elf_header(21, big_endian=True)) == ("ppc64", 3)
    assert elf_machine(b"#!/bin/sh\necho not elf at all") is None
    assert elf_machine(b"\x7fELF") is None


def test_scan_zip_finds_shared_objects_and_executables() -> None:
    package = make_zip(
        {
            "app.py": b"import numpy\n",
            "numpy/core/_multiarray_umath.cpython-312-x86_64-linux-gnu.so": elf_header(X86_64)
            + bytes(100),
            "lib/libssl.so.3": elf_header(AARCH64) + bytes(10),
            "bin/ffmpeg": elf_header(X86_64, e_type=2) + bytes(10),
            "README.md": b"\x7fELF but too short",
        }
    )
    assert scan_zip(package) == (
        NativeBinary(
            path="numpy/core/_multiarray_umath.cpython-312-x86_64-linux-gnu.so",
            machine="x86_64",
            kind="shared_object",
        ),
        NativeBinary(path="lib/libssl.so.3", machine="aarch64", kind="shared_object"),
        NativeBinary(path="bin/ffmpeg", machine="x86_64", kind="executable"),
    )


def test_scan_zip_without_native_code_is_empty() -> None:
    assert scan_zip(make_zip({"index.mjs": b"export const handler = async () => 1;\n"})) == ()


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"Runtime": "python3.12", "Architectures": ["x86_64"], "PackageType": "Zip"}, True),
        ({"Runtime": "nodejs20.x"}, True),
        ({"Runtime": "python3.12", "Architectures": ["arm64"]}, False),
        ({"Runtime": "go1.x", "Architectures": ["x86_64"]}, False),
        ({"Runtime": "java8", "Architectures": ["x86_64"]}, False),
        ({"PackageType": "Image", "Architectures": ["x86_64"]}, False),
    ],
)
def test_arm64_candidates(config: dict[str, Any], expected: bool) -> None:
    assert is_arm64_candidate(config) is expected


def _config(name: str, sha: str, size: int = 1000) -> dict[str, Any]:
    return {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Architectures": ["x86_64"],
        "PackageType": "Zip",
        "CodeSha256": sha,
        "CodeSize": size,
    }


def _get_function_response(name: str) -> dict[str, Any]:
    return {
        "Configuration": {"FunctionName": name},
        "Code": {
            "RepositoryType": "S3",
            "Location": f"https://awslambda-us-east-1-tasks.s3.us-east-1.amazonaws.com/{name}.zip",
        },
    }


def test_scanner_downloads_once_per_code_sha() -> None:
    session = AwsSession(region="us-east-1")
    package = make_zip({"lib/x.so": elf_header(X86_64) + bytes(8)})
    fetched: list[tuple[str, int]] = []

    def fetch(url: str, cap: int) -> bytes:
        fetched.append((url, cap))
        return package

    scanner = PackageScanner(max_bytes=5000, fetch=fetch)
    with Stubber(session.client("lambda")) as stub:
        stub.add_response("get_function", _get_function_response("a"), {"FunctionName": "a"})
        first = scanner.scan(session, _config("a", "sha-1"))
        second = scanner.scan(session, _config("b", "sha-1"))
        stub.assert_no_pending_responses()
    expected = (NativeBinary(path="lib/x.so", machine="x86_64", kind="shared_object"),)
    assert first == second == expected
    assert fetched == [("https://awslambda-us-east-1-tasks.s3.us-east-1.amazonaws.com/a.zip", 5000)]
    assert scanner.downloads == 1


def test_scanner_skips_packages_over_the_cap_without_calls() -> None:
    session = AwsSession(region="us-east-1")

    def fetch(url: str, cap: int) -> bytes:
        raise AssertionError("must not download")

    scanner = PackageScanner(max_bytes=100, fetch=fetch)
    with Stubber(session.client("lambda")):
        assert scanner.scan(session, _config("big", "sha-big", size=101)) is None


def test_scanner_leaves_unknown_when_download_fails() -> None:
    session = AwsSession(region="us-east-1")

    def fetch(url: str, cap: int) -> bytes:
        raise PackageTooLarge("more than 10 bytes")

    scanner = PackageScanner(max_bytes=10_000, fetch=fetch)
    with Stubber(session.client("lambda")) as stub:
        stub.add_response("get_function", _get_function_response("a"), {"FunctionName": "a"})
        assert scanner.scan(session, _config("a", "sha-2")) is None


def test_scanner_ignores_functions_that_are_not_candidates() -> None:
    scanner = PackageScanner(fetch=lambda url, cap: b"")
    config = {**_config("a", "sha-3"), "Architectures": ["arm64"]}
    assert scanner.scan(AwsSession(region="us-east-1"), config) is None


class _ZipHandler(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def zip_server() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _ZipHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/code.zip"
    server.shutdown()
    server.server_close()


def test_download_with_size_cap(zip_server: str) -> None:
    _ZipHandler.body = make_zip({"bin/tool": elf_header(AARCH64, e_type=2)})
    assert download(zip_server, 10_000) == _ZipHandler.body
    with pytest.raises(PackageTooLarge):
        download(zip_server, 10)


def test_download_refuses_other_schemes() -> None:
    with pytest.raises(ValueError):
        download("file:///etc/passwd", 100)


def test_answers_persist_in_the_cache_directory(tmp_path: Path) -> None:
    session = AwsSession(region="us-east-1")
    package = make_zip({"bin/tool": elf_header(X86_64, e_type=2) + bytes(8)})
    expected = (NativeBinary(path="bin/tool", machine="x86_64", kind="executable"),)
    first = PackageScanner(fetch=lambda url, cap: package, cache_dir=tmp_path / "packages")
    with Stubber(session.client("lambda")) as stub:
        stub.add_response("get_function", _get_function_response("a"), {"FunctionName": "a"})
        assert first.scan(session, _config("a", "ab+c/d==")) == expected
    assert [p.name for p in (tmp_path / "packages").iterdir()] == ["ab-c_d.json"]

    def no_fetch(url: str, cap: int) -> bytes:
        raise AssertionError("cached: must not download")

    second = PackageScanner(fetch=no_fetch, cache_dir=tmp_path / "packages")
    with Stubber(session.client("lambda")):  # no GetFunction either
        assert second.scan(session, _config("b", "ab+c/d==")) == expected
    assert second.downloads == 0


def test_a_transient_failure_is_not_remembered() -> None:
    session = AwsSession(region="us-east-1")
    package = make_zip({"app.py": b"print(1)\n"})
    scanner = PackageScanner(fetch=lambda url, cap: package)
    with Stubber(session.client("lambda")) as stub:
        stub.add_client_error("get_function", "TooManyRequestsException", "Rate exceeded", 429)
        stub.add_response("get_function", _get_function_response("b"), {"FunctionName": "b"})
        assert scanner.scan(session, _config("a", "same-sha")) is None
        assert scanner.scan(session, _config("b", "same-sha")) == ()
        stub.assert_no_pending_responses()


def test_an_unwritable_cache_directory_does_not_fail_the_scan(tmp_path: Path) -> None:
    session = AwsSession(region="us-east-1")
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    scanner = PackageScanner(
        fetch=lambda url, cap: make_zip({"a.py": b""}), cache_dir=blocker / "packages"
    )
    with Stubber(session.client("lambda")) as stub:
        stub.add_response("get_function", _get_function_response("a"), {"FunctionName": "a"})
        assert scanner.scan(session, _config("a", "sha-x")) == ()


def test_the_sessions_code_fetcher_reads_packages_when_the_scanner_has_none() -> None:
    # An emulator's Code.Location may name a host that does not exist: its owner reads it.
    package = make_zip({"bin/tool": elf_header(X86_64, e_type=2) + bytes(8)})
    asked: list[tuple[str, int]] = []

    def from_emulator(location: str, cap: int) -> bytes:
        asked.append((location, cap))
        return package

    session = AwsSession(region="us-east-1", code_fetcher=from_emulator)
    assert session.for_region("eu-west-1").code_fetcher is from_emulator
    scanner = PackageScanner(max_bytes=5000)
    with Stubber(session.client("lambda")) as stub:
        stub.add_response("get_function", _get_function_response("a"), {"FunctionName": "a"})
        found = scanner.scan(session, _config("a", "sha-4"))
    assert found == (NativeBinary(path="bin/tool", machine="x86_64", kind="executable"),)
    assert asked == [("https://awslambda-us-east-1-tasks.s3.us-east-1.amazonaws.com/a.zip", 5000)]
    assert scanner.downloads == 1
