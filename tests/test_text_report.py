"""The text report a person reads: colour only on a terminal, secrets never shown."""

from __future__ import annotations

import io

from xfedlint import api
from xfedlint.reporters import text

TRUST = """{"Version": "2012-10-17", "Statement": {"Effect": "Allow",
 "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"},
 "Action": "sts:AssumeRoleWithWebIdentity",
 "Condition": {"StringLike": {"oidc.eks.us-east-1.amazonaws.com/id/ABC:aud": "*"}}}}
"""


def test_rich_colour_on_a_terminal(tmp_path):
    (tmp_path / "t.json").write_text(TRUST)
    result = api.scan((str(tmp_path),))
    out = io.StringIO()
    text.render(result, out, {}, color=True)
    assert "\x1b[" in out.getvalue()
    plain = io.StringIO()
    text.render(result, plain, {}, color=False)
    assert "\x1b[" not in plain.getvalue()
    # the same words either way
    assert "AWS019" in out.getvalue() and "AWS019" in plain.getvalue()


def test_redaction_of_secret_values():
    assert "AKIAIOSFODNN7EXAMPLE" not in text.redact("  value: AKIAIOSFODNN7EXAMPLE")
    assert "wJalrXUtnFEMI" not in text.redact("AWS_SECRET_ACCESS_KEY: wJalrXUtnFEMI/K7MDENG")
    assert "hunter2hunter2" not in text.redact('"client_secret": "hunter2hunter2"')
    assert "MIIEv" not in text.redact("-----BEGIN PRIVATE KEY-----MIIEvQIBADAN")
    assert text.redact("audience: sts.amazonaws.com") == "audience: sts.amazonaws.com"


def test_sensitive_findings_mask_the_value_in_the_excerpt():
    from xfedlint.findings import Finding, RunResult
    from xfedlint.model.location import Location, Span

    src = "env:\n  - name: AWS_SECRET_ACCESS_KEY\n    value: wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY\n"
    f = Finding(rule="CRED001", name="x", severity="error", message="a literal secret key",
                location=Location("p.yaml", Span(3, 12, 3, 52)), sensitive=True)
    out = io.StringIO()
    text.render(RunResult(findings=[f], files_seen=1, sources={"p.yaml": src}), out, {}, color=False)
    assert "wJalr" not in out.getvalue() and "value: ****" in out.getvalue()


def test_redaction_leaves_secret_references_alone():
    for line in ("envFrom: [{secretRef: {name: app-credentials}}]", "secretName: app-token-secret",
                 "AZURE_CLIENT_CERTIFICATE_PATH: /var/run/cert.pem"):
        assert text.redact(line) == line
