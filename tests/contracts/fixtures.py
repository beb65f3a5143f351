"""Recorded AWS responses: ``tests/fixtures/aws/<service>/<Operation>.json``.

Each file holds ``source`` (where the shapes come from: the operation's page of the service's
API reference, and the documented behaviour a variant shows), a ``request`` as tunebot sends
it, ``responses`` (named variants of the response body) and ``errors`` (codes, HTTP statuses
and messages AWS documents for the operation that tunebot handles).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from botocore.stub import Stubber

from tests.contracts.calls import service_model

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "aws"


def fixture_path(service: str, operation: str) -> Path:
    return FIXTURES / service / f"{operation}.json"


@cache
def _load(service: str, operation: str) -> str:
    return fixture_path(service, operation).read_text(encoding="utf-8")


def contract(service: str, operation: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(_load(service, operation))
    return loaded


def all_contracts() -> list[tuple[str, str]]:
    return sorted(
        (path.parent.name, path.stem) for path in FIXTURES.glob("*/*.json") if path.is_file()
    )


def response(service: str, operation: str, variant: str) -> dict[str, Any]:
    """A response body as botocore parses it (blobs as bytes)."""
    body = contract(service, operation)["responses"][variant]
    output = service_model(service).operation_model(operation).output_shape
    if output is not None:
        for name, shape in output.members.items():
            if shape.type_name == "blob" and isinstance(body.get(name), str):
                body = {**body, name: body[name].encode()}
    return body


def add_response(stubber: Stubber, service: str, operation: str, variant: str) -> None:
    from botocore import xform_name

    stubber.add_response(xform_name(operation), response(service, operation, variant))


def add_error(stubber: Stubber, service: str, operation: str, code: str) -> None:
    from botocore import xform_name

    documented = next(e for e in contract(service, operation)["errors"] if e["code"] == code)
    stubber.add_client_error(
        xform_name(operation),
        service_error_code=documented["code"],
        service_message=documented["message"],
        http_status_code=documented["status"],
    )
