"""Unit tests of the shared three-valued CEL evaluator (xfedlint.semantics.cel_eval)."""

from __future__ import annotations

import pytest

from xfedlint.model.resources import GcpProvider
from xfedlint.semantics.cel_eval import (
    MISSING,
    UNKNOWN,
    Attributes,
    Partial,
    evaluate,
    evaluate_text,
    kubernetes_claims,
    parse,
)

T, F, U = True, False, UNKNOWN
CLAIMS = kubernetes_claims("prod", "app", "https://k8s.example")


def _provider(mapping=None, kind: str = "oidc") -> GcpProvider:
    return GcpProvider(src=None, attribute_mapping=mapping, kind=kind)


# `assertion` (the claims), and `attribute`/`google` as a provider maps them from the claims
ENV = Attributes(_provider({"google.subject": "assertion.sub", "attribute.namespace": "'x'"}), CLAIMS).env()


def _check(expr: str, want, env: dict = ENV) -> None:
    got = evaluate_text(expr, env)
    if want is UNKNOWN:
        assert got is UNKNOWN, expr
    else:
        assert got == want and type(got) is type(want), expr


CASES = {
    "==": [
        ("assertion.sub == 'system:serviceaccount:prod:app'", T),
        ("assertion.sub == 'system:serviceaccount:prod:web'", F),
        ("assertion.email == 'a@b'", U),  # a claim the token may carry
        ("assertion.sub == 1", F),  # heterogeneous equality is false, not an error
        ("1 == 1.0", T),
        ("true == 1", F),
        ("[assertion.sub] == ['system:serviceaccount:prod:app']", T),
        ("[assertion.email] == ['a@b']", U),
    ],
    "!=": [
        ("assertion.sub != 'system:serviceaccount:prod:app'", F),
        ("assertion['kubernetes.io']['namespace'] != 'kube-system'", T),
        ("assertion.email != 'a@b'", U),
        ("assertion.iss != 'https://k8s.example'", F),
    ],
    "in": [
        ("assertion['kubernetes.io']['namespace'] in ['prod', 'qa']", T),
        ("assertion['kubernetes.io']['namespace'] in ['stage', 'qa']", F),
        ("assertion.email in ['a@b']", U),
        ("'prod' in [assertion.email, assertion['kubernetes.io']['namespace']]", T),  # found among the known
        ("'qa' in [assertion.email, assertion['kubernetes.io']['namespace']]", U),  # may be the unknown one
        ("'sub' in assertion", T),
        ("'email' in assertion", U),  # a partial map: the token may carry it
        ("'a' in ['a', 'b']", T),
        ("'a' in 'abc'", U),  # not a container: CEL raises an error
    ],
    "&& ||": [
        ("assertion.sub.startsWith('system:serviceaccount:prod:') && assertion.iss == 'https://k8s.example'", T),
        ("assertion.sub == 'x' && assertion.email == 'a@b'", F),  # a definite false absorbs the unknown
        ("assertion.email == 'a@b' && assertion.sub == 'x'", F),  # in either order (CEL's `&&` commutes)
        ("assertion.email == 'a@b' && assertion.sub.endsWith(':app')", U),
        ("assertion.sub.startsWith(1) && assertion.sub == 'x'", F),  # an error is absorbed too
        ("assertion.sub == 'x' || assertion.email == 'a@b'", U),
        ("assertion.email == 'a@b' || assertion.sub.endsWith(':app')", T),  # a definite true absorbs the unknown
        ("assertion.sub == 'x' || assertion.iss == 'y'", F),
        ("assertion.sub || true", T),  # a non-bool operand is an error, absorbed by true
        ("assertion.sub || false", U),
    ],
    "!": [
        ("!(assertion.sub == 'system:serviceaccount:prod:app')", F),
        ("!(assertion['kubernetes.io']['namespace'] == 'kube-system')", T),
        ("!(assertion.email == 'a@b')", U),
        ("!assertion.sub", U),  # not a bool: an error
        ("!!true", T),
    ],
    "string functions": [
        ("assertion.sub.startsWith('system:serviceaccount:prod:')", T),
        ("assertion.sub.startsWith('system:serviceaccount:stage:')", F),
        ("assertion.email.startsWith('a')", U),
        ("assertion.sub.endsWith(':app')", T),
        ("assertion.sub.endsWith(':web')", F),
        ("assertion.email.endsWith('@b')", U),
        ("assertion.sub.contains(':prod:')", T),
        ("assertion.sub.contains(':stage:')", F),
        ("assertion.sub.contains(assertion.email)", U),
        ("assertion.sub.matches('prod:a')", T),  # RE2 partial match: unanchored
        ("assertion.sub.matches('^prod')", F),
        ("matches(assertion.sub, ':app$')", T),  # the global form
        ("assertion.email.matches('.*')", U),
        ("assertion.sub.matches('^(a+)+$')", U),  # nested quantifier: not run through a backtracking engine
        ("assertion.sub.matches('[')", U),  # not a valid pattern
        ("assertion['kubernetes.io'].startsWith('p')", U),  # not a string: an error
    ],
    "member access": [
        ("assertion['kubernetes.io'].serviceaccount.name == 'app'", T),
        ("assertion['kubernetes.io']['serviceaccount']['uid'] == 'u'", U),  # a claim the manifests do not show
        ("assertion.missing.deeper == 'a'", U),  # a member of a missing claim
        ("assertion.missing['deeper'] == 'a'", U),
        ("assertion.sub.deeper == 'a'", U),  # selection on a string: an error
        ("nosuchroot.sub == 'a'", U),
    ],
    "has()": [
        ("has(assertion.sub)", T),
        ("has(assertion['kubernetes.io'].namespace)", T),
        ("has(assertion.email)", U),  # a partial map: the token may carry it
        ("has(assertion.missing.deeper)", U),
        ("has(attribute.namespace)", U),
    ],
}


@pytest.mark.parametrize("expr,want", [pytest.param(e, w, id=f"{op}: {e}") for op, rows in CASES.items() for e, w in rows])
def test_evaluate(expr, want):
    _check(expr, want)


def test_plain_maps_are_complete():
    """A plain dict (not `Partial`) is known in full: a missing key is absent, and reading it is an error."""
    env = {"claims": {"a": "1"}}
    _check("has(claims.b)", F, env)
    _check("'b' in claims", F, env)
    _check("claims.b == '1'", U, env)
    _check("claims.b == '1' && false", F, env)


def test_not_cel_and_not_modelled():
    _check("assertion.sub ==", U)  # not valid CEL
    _check("[1, 2].exists(x, x == 1)", U)  # macros
    _check("{'a': 1}.a == 1", U)  # map literals
    assert evaluate_text(None, ENV) is UNKNOWN
    assert parse("assertion.sub ==") is None and parse(3) is None
    assert parse("a == 'b'") is parse("a == 'b'")  # parsed once per distinct text


def test_values():
    _check("'x::' + assertion.sub", "x::system:serviceaccount:prod:app")
    _check("assertion.sub.split(':')[2]", "prod")
    _check("size(assertion.sub) > 127", F)
    _check("assertion['kubernetes.io']['namespace'] == 'prod' ? 'p' : 'o'", "p")
    _check("assertion.email == 'a' ? 'p' : 'o'", U)
    assert evaluate(parse("-(1)"), {}) == -1


def test_kubernetes_claims():
    c = kubernetes_claims("ns", "sa")
    assert isinstance(c, Partial) and "iss" not in c
    assert c["sub"] == "system:serviceaccount:ns:sa"
    assert c["kubernetes.io"]["serviceaccount"]["name"] == "sa"
    assert kubernetes_claims("ns", "sa", "https://i")["iss"] == "https://i"


def test_attributes_mapping_and_condition():
    p = _provider({"google.subject": "assertion.sub", "attribute.namespace": "assertion['kubernetes.io']['namespace']",
                   "attribute.pod": "assertion['kubernetes.io']['pod']['name']"})
    attrs = Attributes(p, CLAIMS)
    assert attrs.get("google.subject") == "system:serviceaccount:prod:app"
    assert attrs.get("attribute.namespace") == "prod"
    assert attrs.get("attribute.pod") is UNKNOWN
    assert attrs.get("attribute.repo") is MISSING  # the mapping is known not to have it
    assert attrs.expression("attribute.namespace") == "assertion['kubernetes.io']['namespace']"
    env = attrs.env()
    _check("attribute.namespace == 'prod' && google.subject.endsWith(':app')", T, env)
    _check("attribute.namespace == 'stage'", F, env)
    _check("attribute.repo == 'x'", U, env)  # an unmapped attribute in a condition: unknown
    _check("'namespace' in attribute", T, env)
    _check("'repo' in attribute", F, env)
    _check("'pod' in attribute", U, env)


def test_attributes_without_a_known_mapping():
    assert Attributes(None, CLAIMS).get("google.subject") is UNKNOWN
    assert Attributes(_provider("not a map"), CLAIMS).get("google.subject") is UNKNOWN
    aws = Attributes(_provider(kind="aws"), Partial({"arn": "arn:aws:sts::1:assumed-role/r/s"}))
    assert aws.get("google.subject") == "arn:aws:sts::1:assumed-role/r/s"  # AWS providers' default mapping
    assert aws.get("attribute.aws_role") == "arn:aws:sts::1:assumed-role/r/s"
    assert aws.get("attribute.other") is MISSING
