"""checks.cred.key_material tries each pattern only where a word it needs is present (`_may_match`); that
must never change what it finds. Hypothesis builds texts from the patterns' own pieces, case variants and
the non-ASCII letters that re.IGNORECASE matches to ASCII ones (`ſ` is `s`, the Kelvin sign is `k`)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xfedlint.checks import cred

PIECES = [
    "AKIA", "ASIA", "IOSFODNN7EXAMPLE", "ABCDEFGHIJKLMNOP", "aws_", "AWS_", "secret", "SECRET", "ſecret", "_access_",
    "-access-", "_key", "_\u212aey", "=", ": ", "\"", "'", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AZURE_", "ARM_", "client_secret", "CLIENT_SECRET", "cl\u0130ent_secret", "abc8Q~", "Q~",
    "0123456789abcdefghijklmnopqrstuvwxyzAB", "${SECRET}", "{\"type\": \"service_account\", ", "\"private_key\": \"",
    "-----BEGIN PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----", "\\n", "\n", "MIIEvQIBADANBgkqhkiG9w0BAQEF",
    "-----END PRIVATE KEY-----", "\"}", " ", "x", "é", "8080",
    # whole assignments, so that a few draws make a finding
    "aws_secret_access_key=", "ſecret_access_Key: ", "AZURE_CLIENT_SECRET=", "clİent_secret: ",
]
ASSIGNMENTS = ["", "aws_secret_access_key=", "ſecret_access_Key: ", "AZURE_CLIENT_SECRET=",
               "clİent_secret: ", "{\"type\": \"service_account\", \"private_key\": \""]
VALUES = ["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "abc8Q~0123456789abcdefghijklmnopqrstuvwx",
          "AKIAIOSFODNN7EXAMPLE", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\n", "8080"]
NAMES = ["AWS_SECRET_ACCESS_KEY", "AZURE_CLIENT_SECRET", "ARM_CLIENT_SECRET", "CONFIG", "credentials.json", "x"]


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(NAMES), before=st.lists(st.sampled_from(PIECES), max_size=6),
       assignment=st.sampled_from(ASSIGNMENTS), value=st.sampled_from(VALUES),
       after=st.lists(st.sampled_from(PIECES), max_size=6))
def test_the_word_filter_never_changes_what_is_found(name, before, assignment, value, after):
    text = "".join(before) + assignment + value + "".join(after)
    filtered = cred.key_material.__wrapped__(name, text)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(cred, "_may_match", lambda *args, **kwargs: True)
        every_pattern = cred.key_material.__wrapped__(name, text)
    assert filtered == every_pattern


def test_the_filter_does_skip_patterns_on_plain_values():
    assert not cred._may_match("secret", "8080", "8080", ignore_case=True)
    assert cred._may_match("secret", "\u017fecret", None, ignore_case=True)  # not ASCII: always tried
