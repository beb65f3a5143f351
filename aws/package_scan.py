"""Find native code in a zip deployment package: is the function safe to move to arm64?

Only arm64 candidates are scanned (zip packages on x86_64 whose runtime also exists on
arm64). The package is downloaded from ``GetFunction``'s pre-signed ``Code.Location`` with a
size cap, every ELF file inside (shared objects and executables) is identified by the
``e_machine`` field of its header, and the answer is cached by ``CodeSha256`` so functions
sharing a package cost one download.
"""

from __future__ import annotations

import io
import json
import logging
import struct
import urllib.request
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from aws.session import AwsSession, CodeFetcher, is_access_denied
from recommendations.rules.architecture import X86_ONLY_RUNTIMES
from recommendations.snapshot import NativeBinary

logger = logging.getLogger(__name__)

IAM_ACTIONS: tuple[str, ...] = ("lambda:GetFunction",)

DEFAULT_MAX_PACKAGE_BYTES = 50 * 1024 * 1024
DOWNLOAD_TIMEOUT_S = 30.0
_ELF_MAGIC = b"\x7fELF"
_ELF_HEADER_BYTES = 20
_ET_EXEC = 2
_ET_DYN = 3
# e_machine values (System V ABI); the two that matter plus a few a package may carry.
ELF_MACHINES: dict[int, str] = {
    3: "i386",
    8: "mips",
    20: "ppc",
    21: "ppc64",
    40: "arm",
    62: "x86_64",
    183: "aarch64",
    243: "riscv",
}

Fetch = CodeFetcher


class PackageTooLarge(Exception):
    """The download went past the size cap."""


def elf_machine(header: bytes) -> tuple[str, int] | None:
    """(machine name, e_type) of an ELF header; None when ``header`` is not ELF."""
    if len(header) < _ELF_HEADER_BYTES or not header.startswith(_ELF_MAGIC):
        return None
    # EI_DATA (byte 5): 1 little-endian, 2 big-endian. e_type at 16, e_machine at 18.
    order = ">" if header[5] == 2 else "<"
    e_type, e_machine = struct.unpack_from(f"{order}HH", header, 16)
    return ELF_MACHINES.get(e_machine, f"machine-{e_machine}"), e_type


def _kind(path: str, e_type: int) -> str:
    name = path.rsplit("/", 1)[-1]
    if name.endswith(".so") or ".so." in name or (e_type == _ET_DYN and ".so" in name):
        return "shared_object"
    return "executable" if e_type in (_ET_EXEC, _ET_DYN) else "shared_object"


def scan_zip(data: bytes) -> tuple[NativeBinary, ...]:
    """Every ELF file in the zip archive ``data``, in archive order."""
    found: list[NativeBinary] = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.is_dir() or info.file_size < _ELF_HEADER_BYTES:
                continue
            with archive.open(info) as member:
                identified = elf_machine(member.read(_ELF_HEADER_BYTES))
            if identified is None:
                continue
            machine, e_type = identified
            found.append(
                NativeBinary(path=info.filename, machine=machine, kind=_kind(info.filename, e_type))
            )
    return tuple(found)


def download(url: str, max_bytes: int) -> bytes:
    """GET ``url`` (a pre-signed S3 URL), refusing to read more than ``max_bytes``."""
    if not url.startswith("https://") and not url.startswith("http://"):
        raise ValueError(f"not a downloadable URL: {url[:40]}")
    request = urllib.request.Request(url, method="GET")
    with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response:
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise PackageTooLarge(f"{declared} bytes")
        data: bytes = response.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PackageTooLarge(f"more than {max_bytes} bytes")
    return data


def is_arm64_candidate(config: Mapping[str, Any]) -> bool:
    """A zip package on x86_64 whose runtime also runs on arm64."""
    architectures = config.get("Architectures") or ["x86_64"]
    runtime = config.get("Runtime")
    return (
        (config.get("PackageType") or "Zip") == "Zip"
        and list(architectures) == ["x86_64"]
        and isinstance(runtime, str)
        and runtime not in X86_ONLY_RUNTIMES
    )


class PackageScanner:
    """Scans packages once per ``CodeSha256``; reuse one scanner across regions and scans.

    With ``cache_dir`` the answers also persist between runs (one small JSON file per
    package hash), so a repeated ``tunebot scan`` downloads only packages that changed.
    """

    def __init__(
        self,
        *,
        max_bytes: int = DEFAULT_MAX_PACKAGE_BYTES,
        fetch: Fetch | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        """``fetch`` reads a package from its location; None: the session's
        ``code_fetcher`` if it has one (an emulator's), else an HTTPS download."""
        self._max_bytes = max_bytes
        self._fetch = fetch
        self._cache: dict[str, tuple[NativeBinary, ...] | None] = {}
        self._cache_dir = cache_dir
        self.downloads = 0

    def scan(
        self, session: AwsSession, config: Mapping[str, Any]
    ) -> tuple[NativeBinary, ...] | None:
        """The ELF files in the function's package; None when it was not (or could not be) read."""
        if not is_arm64_candidate(config):
            return None
        sha = str(config.get("CodeSha256") or "")
        if sha and sha in self._cache:
            return self._cache[sha]
        stored = self._load(sha)
        if stored is not None:
            self._cache[sha] = stored
            return stored
        name = str(config.get("FunctionName"))
        size = config.get("CodeSize")
        if isinstance(size, int) and size > self._max_bytes:
            logger.info("package of %s is %d bytes, over the scan cap", name, size)
            return self._remember(sha, None)
        try:
            location = session.client("lambda").get_function(FunctionName=name)["Code"]["Location"]
            fetch = self._fetch or session.code_fetcher or download
            data = fetch(str(location), self._max_bytes)
            self.downloads += 1
        except (ClientError, BotoCoreError, OSError, ValueError, KeyError) as error:
            if is_access_denied(error):  # the caller records the function as unreadable
                raise
            # Possibly transient (throttling, network): not remembered, another function with
            # the same package may try again.
            logger.info("could not download the package of %s: %r", name, error)
            return None
        except PackageTooLarge:
            logger.info("package of %s is over the scan cap", name)
            return self._remember(sha, None)
        try:
            found = scan_zip(data)
        except (zipfile.BadZipFile, OSError, ValueError) as error:
            logger.info("the package of %s is not a readable zip: %r", name, error)
            return self._remember(sha, None)
        self._store(sha, found)
        return self._remember(sha, found)

    def _remember(
        self, sha: str, found: tuple[NativeBinary, ...] | None
    ) -> tuple[NativeBinary, ...] | None:
        if sha:
            self._cache[sha] = found
        return found

    def _path(self, sha: str) -> Path | None:
        if self._cache_dir is None or not sha:
            return None
        # CodeSha256 is base64: make it a file name.
        return self._cache_dir / (sha.replace("/", "_").replace("+", "-").rstrip("=") + ".json")

    def _load(self, sha: str) -> tuple[NativeBinary, ...] | None:
        path = self._path(sha)
        if path is None or not path.is_file():
            return None
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
            return tuple(NativeBinary.model_validate(entry) for entry in entries)
        except (OSError, ValueError, TypeError) as error:
            logger.info("ignoring unreadable package cache %s: %r", path, error)
            return None

    def _store(self, sha: str, found: tuple[NativeBinary, ...]) -> None:
        path = self._path(sha)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            document = [binary.model_dump(mode="json") for binary in found]
            path.write_text(json.dumps(document), encoding="utf-8")
        except OSError as error:  # a read-only home directory must not fail the scan
            logger.info("could not write package cache %s: %r", path, error)
