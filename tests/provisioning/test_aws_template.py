"""The CloudFormation template is linted against AWS's own resource specification."""

import re
import subprocess
import sys
from pathlib import Path

import yaml

TEMPLATE = Path(__file__).parents[2] / "provisioning" / "aws" / "hub.yaml"


def test_template_passes_cfn_lint():
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(TEMPLATE)],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_database_password_never_passes_through_the_template():
    text = TEMPLATE.read_text()

    assert not re.search(r"^\s*MasterUserPassword:", text, re.M)
    assert "ManageMasterUserPassword: true" in text


def test_evidence_bucket_is_locked_and_private():
    loader = yaml.SafeLoader
    # CloudFormation short-form tags (!Ref, !Sub …) are plain data for this check.
    loader.add_multi_constructor("!", lambda l, suffix, node: None)
    doc = yaml.load(TEMPLATE.read_text(), Loader=loader)

    bucket = doc["Resources"]["EvidenceBucket"]["Properties"]

    assert bucket["ObjectLockEnabled"] is True
    assert all(bucket["PublicAccessBlockConfiguration"].values())
