"""Architecture: re-deploy the very same zip package with ``Architectures`` set.

Lambda only changes the architecture through ``UpdateFunctionCode``. The package comes from
the function itself (GetFunction ``Code.Location``) and is checked against ``CodeSha256``
before it is sent back, so the code cannot change on the way.
"""

from __future__ import annotations

from typing import Any

from aws.appliers.base import (
    ApplyContext,
    ApplyOutcome,
    ChangeKind,
    call,
    code_sha256,
    iam_actions_of,
    request_ids,
)
from aws.appliers.configuration import check_not_updating, check_revision, revision_guard
from aws.appliers.errors import (
    ChangeError,
    ChangeNotPossibleError,
    ChangeVerificationError,
    StaleChangeError,
)
from recommendations.changes import ArchitectureChange


def apply_architecture(
    change: ArchitectureChange,
    context: ApplyContext,
    *,
    expected_revision_id: str | None = None,
    function_id: str | None = None,
) -> ApplyOutcome:
    name = change.function_name
    target = function_id or name
    client = context.lambda_client

    def read_idle() -> dict[str, Any]:
        read = call(client.get_function, f"read {name}", FunctionName=target)
        check_not_updating(name, read["Configuration"])
        return read

    function = context.when_idle(read_idle)
    configuration = function["Configuration"]
    if configuration.get("PackageType", "Zip") != "Zip":
        raise ChangeNotPossibleError(
            f"{name} is deployed as a container image; build and push an image for "
            f"{change.after.value} and deploy it, tunebot only re-deploys zip packages."
        )
    check_revision(name, configuration, expected_revision_id)
    current = (configuration.get("Architectures") or ["x86_64"])[0]
    if current != change.before.value:
        raise StaleChangeError(
            f"{name} runs on {current} now, not on {change.before.value} as when the "
            "recommendation was computed; nothing was changed. Run the analysis again."
        )
    location = function.get("Code", {}).get("Location")
    if not location:
        raise ChangeNotPossibleError(f"AWS did not return a download location for {name}'s code.")
    try:
        package = context.fetch_package(location)
    except ChangeError:
        raise
    except OSError as error:
        raise ChangeError(f"Could not download the code package of {name}: {error}.") from error
    if code_sha256(package) != configuration.get("CodeSha256"):
        raise ChangeError(
            f"The downloaded package of {name} does not match its CodeSha256; nothing was changed."
        )
    updated = context.call(
        client.update_function_code,
        f"re-deploy {name} for {change.after.value}",
        FunctionName=target,
        ZipFile=package,
        Architectures=[change.after.value],
        **revision_guard(configuration),
        Publish=False,
    )
    context.wait_until_updated(target)
    after = context.call(
        client.get_function_configuration,
        f"read back the configuration of {name}",
        FunctionName=target,
    )
    now_on = (after.get("Architectures") or ["x86_64"])[0]
    if now_on != change.after.value:
        raise ChangeVerificationError(
            f"AWS accepted the re-deploy, but {name} reads {now_on} instead of "
            f"{change.after.value}; check the function."
        )
    notes = ("Published versions and aliases keep their architecture; only $LATEST changed.",)
    return ApplyOutcome(
        change=change,
        request_ids=request_ids(function, updated, after),
        revision_before=configuration.get("RevisionId"),
        revision_id=after.get("RevisionId"),
        notes=notes,
    )


KINDS: tuple[ChangeKind[Any], ...] = (
    ChangeKind(
        ArchitectureChange,
        apply_architecture,
        (
            "lambda:GetFunction",
            "lambda:GetFunctionConfiguration",
            "lambda:UpdateFunctionCode",
        ),
    ),
)
IAM_ACTIONS: tuple[str, ...] = iam_actions_of(KINDS)
