"""JSON secrets from Secrets Manager (the Slack token and signing secret), read once per ARN.

::

    values = read_secret_json(arn, client, what="Slack secret")
    token = values.get("SLACK_BOT_TOKEN")

A secret is read at most once per container: concurrent first reads of one ARN share the one
call, and a failed read is not remembered, so the next one tries again. Failures are
:class:`aws.errors.SecretError` with one sentence and ``retryable`` from the error table.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from aws.error_codes import aws_message, error_code, is_retryable
from aws.errors import SecretError

IAM_ACTIONS: tuple[str, ...] = ("secretsmanager:GetSecretValue",)

_lock = threading.Lock()
_read_locks: dict[str, threading.Lock] = {}
_values: dict[str, dict[str, str]] = {}


def read_secret_json(arn: str, client: Any, *, what: str = "secret") -> dict[str, str]:
    """The string values of the JSON object stored as the secret ``arn``'s ``SecretString``.

    ``client`` is a Secrets Manager client (``AwsSession().client("secretsmanager")`` gives
    one with tunebot's retries); ``what`` names the secret in error sentences ("Slack
    secret"). Raises :class:`SecretError`.
    """
    with _lock:
        if arn in _values:
            return dict(_values[arn])
        read_lock = _read_locks.setdefault(arn, threading.Lock())
    with read_lock:
        with _lock:
            if arn in _values:
                return dict(_values[arn])
        values = _read(arn, client, what)
        with _lock:
            _values[arn] = values
        return dict(values)


def _read(arn: str, client: Any, what: str) -> dict[str, str]:
    try:
        text = client.get_secret_value(SecretId=arn)["SecretString"]
        value = json.loads(text)
    except (ClientError, BotoCoreError) as error:
        detail = aws_message(error) or error_code(error) or str(error).rstrip(".")
        raise SecretError(
            f"Could not read the {what} {arn}: {detail}.",
            retryable=is_retryable(error),
            code=error_code(error),
        ) from error
    except (KeyError, json.JSONDecodeError) as error:
        raise SecretError(f"The {what} {arn} is not a JSON object string.") from error
    if not isinstance(value, dict):
        raise SecretError(f"The {what} {arn} is not a JSON object.")
    return {str(key): item for key, item in value.items() if isinstance(item, str)}
