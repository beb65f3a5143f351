"""Plain Python values <-> DynamoDB attribute values.

DynamoDB has no float type: numbers travel as strings and boto3 hands them back as
``Decimal``. Floats are written through ``Decimal(str(x))`` so 0.1 stays 0.1 instead of
0.1000000000000000055511151231257827, and read back as ``int`` when integral, else ``float``,
so pydantic models validate from them unchanged. (DynamoDB does not remember whether a
number was a float: an integral float above 2**53 comes back as the nearest int its text
names. tunebot stores no such values.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_dynamo_value(value: Any) -> Any:
    """Make ``value`` storable: floats become Decimals, tuples lists, recursively."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int | Decimal):
        return value
    if isinstance(value, float):
        # DynamoDB numbers: finite, magnitude 1E-130 to 9.99E+125 (or zero).
        if not math.isfinite(value) or (value and not 1e-130 <= abs(value) < 1e126):
            raise ValueError(f"DynamoDB cannot store the number {value!r}")
        return Decimal(str(value))
    if isinstance(value, Mapping):
        return {str(key): to_dynamo_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_dynamo_value(item) for item in value]
    raise TypeError(f"cannot store a {type(value).__name__} in DynamoDB")


def from_dynamo_value(value: Any) -> Any:
    """Undo :func:`to_dynamo_value`: Decimals become int or float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: from_dynamo_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_dynamo_value(item) for item in value]
    if isinstance(value, set):
        return {from_dynamo_value(item) for item in value}
    return value


def serialize_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A Python dict -> the low-level ``{"name": {"S": ...}}`` form the client takes."""
    return {key: _serializer.serialize(to_dynamo_value(value)) for key, value in item.items()}


def deserialize_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """The low-level form a client returns -> plain Python values."""
    return {key: from_dynamo_value(_deserializer.deserialize(value)) for key, value in item.items()}


def serialize_value(value: Any) -> dict[str, Any]:
    """One attribute value in low-level form, for expression attribute values."""
    return dict(_serializer.serialize(to_dynamo_value(value)))
