"""Transform template.yaml with the AWS SAM translator, offline, and write the CloudFormation.

Run with the IaC venv (``make iac-check``): ``.venv-iac/bin/python tests/deploy/iac/sam_transform.py
template.yaml build/iac/template.json``. The translator normally asks IAM for the ARNs of AWS
managed policies; here a fixed table answers instead, so the check needs no AWS
account and fails loudly if the template starts relying on a policy it does not know.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import boto3
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

# The AWS managed policies SAM attaches for the features the template uses (execution role
# basics, X-Ray tracing). Names to ARNs as IAM lists them.
_AWS_POLICY = "arn:aws:iam::aws:policy/"
KNOWN_MANAGED_POLICIES = {
    "AWSLambdaBasicExecutionRole": _AWS_POLICY + "service-role/AWSLambdaBasicExecutionRole",
    "AWSXrayWriteOnlyAccess": _AWS_POLICY + "AWSXrayWriteOnlyAccess",
    "AWSXRayDaemonWriteAccess": _AWS_POLICY + "AWSXRayDaemonWriteAccess",
}

# What `sam deploy` would pass: pseudo parameters for an example account and region.
PSEUDO_PARAMETERS = {
    "AWS::Region": "us-east-1",
    "AWS::Partition": "aws",
    "AWS::AccountId": "123456789012",
    "AWS::StackName": "tunebot",
    "AWS::URLSuffix": "amazonaws.com",
}


# `sam package` uploads each local CodeUri and rewrites it to an S3 URI before CloudFormation
# sees the template; the translator only accepts the rewritten form, so do the same rewrite.
PACKAGED_CODE_URI = "s3://tunebot-artifacts-example/tunebot-lambda.zip"


def as_packaged(sam_template: dict[str, Any]) -> dict[str, Any]:
    """The template as `sam package` would hand it over: local CodeUri values become S3 URIs."""
    function_sections = [sam_template.get("Globals", {}).get("Function", {})]
    function_sections += [
        resource.get("Properties", {})
        for resource in sam_template.get("Resources", {}).values()
        if resource.get("Type") == "AWS::Serverless::Function"
    ]
    for section in function_sections:
        code_uri = section.get("CodeUri")
        if isinstance(code_uri, str) and not code_uri.startswith("s3://"):
            section["CodeUri"] = PACKAGED_CODE_URI
    return sam_template


def translate(template_path: Path) -> dict[str, Any]:
    sam_template = as_packaged(yaml_parse(template_path.read_text(encoding="utf-8")))
    # A session with a region and no credentials: the translator only reads its region.
    session = boto3.session.Session(region_name=PSEUDO_PARAMETERS["AWS::Region"])
    translator = Translator(managed_policy_map=None, sam_parser=Parser(), boto_session=session)
    return translator.translate(
        sam_template,
        parameter_values=dict(PSEUDO_PARAMETERS),
        get_managed_policy_map=lambda: dict(KNOWN_MANAGED_POLICIES),
    )


def carry_checkov_skips(sam_template: dict[str, Any], cloudformation: dict[str, Any]) -> None:
    """Copy a function's justified checkov skips onto the resources SAM generates for it.

    SAM turns ``FunctionUrlConfig`` into a separate ``AWS::Lambda::Url`` resource named
    ``<Function>Url`` without the function's Metadata; the justification written next to the
    function applies to it, so the scan of the transformed template must see it too.
    """
    resources = cloudformation.get("Resources", {})
    for logical_id, resource in sam_template.get("Resources", {}).items():
        checkov = resource.get("Metadata", {}).get("checkov")
        generated_url = resources.get(f"{logical_id}Url")
        if checkov and generated_url and generated_url.get("Type") == "AWS::Lambda::Url":
            generated_url.setdefault("Metadata", {})["checkov"] = checkov


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: sam_transform.py TEMPLATE.yaml OUTPUT.json", file=sys.stderr)
        return 2
    template_path, output_path = Path(argv[1]), Path(argv[2])
    try:
        cloudformation = translate(template_path)
        carry_checkov_skips(yaml_parse(template_path.read_text(encoding="utf-8")), cloudformation)
    except InvalidDocumentException as error:
        for cause in error.causes:
            print(f"{template_path}: {cause.message}", file=sys.stderr)
        return 1
    output_path.parent.mkdir(parents=True, exist_ok=True)
    output_path.write_text(json.dumps(cloudformation, indent=2, sort_keys=True), encoding="utf-8")
    resources = cloudformation.get("Resources", {})
    print(f"SAM transform OK: {len(resources)} CloudFormation resources -> {output_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
