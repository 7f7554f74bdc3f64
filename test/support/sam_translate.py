"""Prints template.yml as the SAM translator (the one cfn-lint ships with) turns it into plain CloudFormation, after
the step `sam deploy` takes first: the local CodeUri becomes the S3 location of the uploaded zip.

Usage: python3 sam_translate.py TEMPLATE
"""

import json
import os
import sys

from cfnlint.decode import decode
from samtranslator.translator.transform import transform


class NoManagedPolicies:
    """The template names no SAM policy templates or managed policies by name, so nothing needs looking up."""

    def load(self):
        return {}


if __name__ == "__main__":
    template, matches = decode(sys.argv[1])
    if matches:
        sys.exit(f"cannot parse {sys.argv[1]}: {matches}")
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://sam-artifacts/lambda-eks/dist.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    print(json.dumps(transform(template, {}, NoManagedPolicies()), default=str))
