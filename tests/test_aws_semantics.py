"""IAM condition semantics (semantics.aws_policy): what a trust statement admits, with IAM's missing-key rules.

Each case states the IAM documentation's rule it pins down ([R5] condition operators, [R6] single- vs
multi-valued keys, [R7] multiple keys and values), so a regression names the rule it broke.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from xfedlint import api
from xfedlint.model.document import SourceDoc, Src
from xfedlint.model.resources import AwsPolicyDocument
from xfedlint.semantics import aws_policy
from xfedlint.semantics.aws_policy import Operator, glob_match, k8s_pattern_can_match, subject_owner_scope
from xfedlint.semantics.issuers import is_kubernetes_subject

EKS = "oidc.eks.us-east-1.amazonaws.com/id/ABC"
ISSUER = f"https://{EKS}"
GH = "token.actions.githubusercontent.com"


def statement(condition: dict, federated: str = f"arn:aws:iam::111122223333:oidc-provider/{EKS}",
              action="sts:AssumeRoleWithWebIdentity", effect="Allow") -> aws_policy.Statement:
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": effect, "Principal": {"Federated": federated},
                                                    "Action": action, "Condition": condition}]}
    (st,) = aws_policy.statements(AwsPolicyDocument(src=Src(SourceDoc(file="t.json", data=doc))))
    return st


def admits(condition: dict, sub: str | None = "system:serviceaccount:prod:app", aud: str | None = "sts.amazonaws.com",
           **claims) -> bool:
    token = {k: v for k, v in {"sub": sub, "aud": aud, **claims}.items() if v is not None}
    return statement(condition).admits_token(ISSUER, token)


# --- missing keys ([R5], [R6]) ---------------------------------------------------------------------------

def test_positive_operator_is_false_when_the_key_is_missing():
    assert not admits({"StringEquals": {f"{EKS}:sub": "system:serviceaccount:prod:app"}}, sub=None)
    assert not admits({"StringLike": {f"{EKS}:sub": "*"}}, sub=None)


def test_ifexists_fails_open_on_a_missing_key():
    cond = {"StringEqualsIfExists": {f"{EKS}:sub": "system:serviceaccount:prod:app"}}
    assert admits(cond, sub=None)
    assert not admits(cond, sub="system:serviceaccount:prod:evil")  # present: judged as StringEquals
    # a key with another cluster's prefix is never present, so IfExists always passes (AWS003 + AWS007)
    assert admits({"StringEqualsIfExists": {"oidc.eks.us-east-1.amazonaws.com/id/OTHER:sub": "x"}},
                  sub="system:serviceaccount:kube-system:anything")


def test_forallvalues_is_true_on_a_missing_key_and_foranyvalue_false():
    assert admits({"ForAllValues:StringEquals": {f"{EKS}:environment": "prod"}})
    assert not admits({"ForAnyValue:StringEquals": {f"{EKS}:environment": "prod"}})
    assert admits({"ForAnyValue:StringEquals": {f"{EKS}:environment": "prod"}}, environment="prod")
    assert not admits({"ForAllValues:StringEquals": {f"{EKS}:environment": "prod"}}, environment="dev")


def test_negated_operators_are_true_on_a_missing_key():
    assert admits({"StringNotEquals": {f"{EKS}:sub": "system:serviceaccount:kube-system:aws-node"}}, sub=None)
    assert admits({"StringNotLike": {f"{EKS}:sub": "system:serviceaccount:kube-system:*"}}, sub=None)
    # ForAnyValue wins over the negation when the key is missing
    assert not admits({"ForAnyValue:StringNotEquals": {f"{EKS}:sub": "x"}}, sub=None)


def test_null_operator():
    assert admits({"Null": {f"{EKS}:environment": "true"}})
    assert not admits({"Null": {f"{EKS}:environment": "false"}})
    assert admits({"Null": {f"{EKS}:environment": "false"}}, environment="prod")


def test_true_when_missing_and_fail_closed_properties():
    cases = {"StringEquals": (False, True), "StringLike": (False, True), "StringEqualsIfExists": (True, False),
             "ForAllValues:StringEquals": (True, False), "ForAnyValue:StringLike": (False, True),
             "StringNotEquals": (True, False), "ForAnyValue:StringNotLike": (False, False),
             "ForAnyValue:StringEqualsIfExists": (True, False)}
    for raw, (missing, closed) in cases.items():
        op = Operator.parse(raw)
        assert op.true_when_missing is missing, raw
        assert op.fail_closed is closed, raw


# --- AND / OR / NOR ([R7]) -------------------------------------------------------------------------------

def test_values_of_one_key_are_ored():
    cond = {"StringEquals": {f"{EKS}:sub": ["system:serviceaccount:prod:a", "system:serviceaccount:prod:b"]}}
    assert admits(cond, sub="system:serviceaccount:prod:a")
    assert admits(cond, sub="system:serviceaccount:prod:b")
    assert not admits(cond, sub="system:serviceaccount:prod:c")


def test_keys_and_operators_are_anded():
    cond = {"StringEquals": {f"{EKS}:sub": "system:serviceaccount:prod:app", f"{EKS}:aud": "sts.amazonaws.com"}}
    assert admits(cond)
    assert not admits(cond, aud="api://AzureADTokenExchange")
    cond2 = {"StringLike": {f"{EKS}:sub": "system:serviceaccount:prod:*"},
             "StringNotEquals": {f"{EKS}:sub": "system:serviceaccount:prod:default"}}
    assert admits(cond2)
    assert not admits(cond2, sub="system:serviceaccount:prod:default")


def test_negated_operator_with_several_values_is_a_nor():
    cond = {"StringNotEquals": {f"{EKS}:sub": ["system:serviceaccount:a:a", "system:serviceaccount:b:b"]}}
    assert not admits(cond, sub="system:serviceaccount:a:a")
    assert not admits(cond, sub="system:serviceaccount:b:b")
    assert admits(cond, sub="system:serviceaccount:c:c")


def test_multivalued_request_keys_with_set_operators():
    c = statement({"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}})
    assert c.evaluate({"aws:TagKeys": ["team"]})
    assert not c.evaluate({"aws:TagKeys": ["team", "owner"]})
    assert c.evaluate({})  # missing: true
    any_ = statement({"ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"}})
    assert any_.evaluate({"cognito-identity.amazonaws.com:amr": ["authenticated", "graph.facebook.com"]})
    assert not any_.evaluate({"cognito-identity.amazonaws.com:amr": ["unauthenticated"]})


# --- keys and values -------------------------------------------------------------------------------------

def test_condition_keys_are_case_insensitive():
    cond = {"StringEquals": {f"{EKS.upper()}:SUB": "system:serviceaccount:prod:app"}}
    assert admits(cond)
    assert not admits(cond, sub="system:serviceaccount:prod:other")
    assert statement(cond).on_claim(EKS, "sub")


def test_values_are_case_sensitive_except_ignorecase():
    assert not admits({"StringEquals": {f"{EKS}:sub": "system:serviceaccount:Prod:app"}})
    assert admits({"StringEqualsIgnoreCase": {f"{EKS}:sub": "system:serviceaccount:Prod:APP"}})
    assert not admits({"StringLike": {f"{EKS}:sub": "system:serviceaccount:Prod:*"}})


def test_stringequals_with_star_is_literal():
    cond = {"StringEquals": {f"{EKS}:sub": "system:serviceaccount:prod:*"}}
    assert not admits(cond, sub="system:serviceaccount:prod:app")
    assert admits(cond, sub="system:serviceaccount:prod:*")


def test_glob_star_crosses_colon_and_slash():
    assert glob_match("system:serviceaccount:prod*", "system:serviceaccount:prod-evil:app")
    assert glob_match("repo:acme/*", "repo:acme/api:ref:refs/heads/main")
    assert glob_match("repo:acme*", "repo:acme-evil/api:ref:refs/heads/main")
    assert glob_match("*", "")


def test_glob_question_mark_is_exactly_one_character():
    assert glob_match("app-?", "app-1")
    assert not glob_match("app-?", "app-")
    assert not glob_match("app-?", "app-12")
    assert glob_match("a?c", "a:c")


def test_iam_escapes_are_literal_characters():
    assert glob_match("a${*}b", "a*b")
    assert not glob_match("a${*}b", "axb")
    assert not aws_policy.has_wildcard("a${*}b${?}")
    assert not aws_policy.is_placeholder("a${*}b")


def test_helm_and_go_template_values_are_placeholders_as_terraform_ones_are(tmp_path):
    """A Helm-templated trust (`{{ .Values.audience }}`) is as unknown as a Terraform one (`${var.aud}`): it
    was read as a literal custom audience (AWS020) and a subject "with whitespace" (AWS018)."""
    for value in ("{{ .Values.audience }}", "system:serviceaccount:{{ .Release.Namespace }}:app", "${var.aud}",
                  "<ACCOUNT_ID>", "%AUDIENCE%"):
        assert aws_policy.is_placeholder(value), value
    for value in ("sts.amazonaws.com", "repo:org/app:ref:refs/heads/main", "a{b}c", "x < y"):
        assert not aws_policy.is_placeholder(value), value
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::111122223333:oidc-provider/{EKS}"},
        "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {"StringEquals": {
            f"{EKS}:aud": "{{ .Values.audience }}", f"{EKS}:sub": "system:serviceaccount:{{ .Release.Namespace }}:app"}}}]}))
    found = {(f.rule, "placeholder `{{ .Release.Namespace }}`" in f.message) for f in api.scan((str(trust),)).findings}
    assert found == {("AWS018", True)}, found  # no AWS020: the audience is not known


def test_admits_token_requires_the_exact_provider_and_web_identity():
    st = statement({"StringEquals": {f"{EKS}:sub": "system:serviceaccount:prod:app"}})
    claims = {"sub": "system:serviceaccount:prod:app"}
    assert st.admits_token(ISSUER, claims)
    assert st.admits_token(EKS, claims)
    assert not st.admits_token("https://oidc.eks.us-east-1.amazonaws.com/id/OTHER", claims)
    denied = statement({"StringEquals": {f"{EKS}:sub": "system:serviceaccount:prod:app"}}, action="sts:AssumeRole")
    assert not denied.admits_token(ISSUER, claims)
    assert statement({}, action="sts:*").admits_token(ISSUER, claims)


def test_claim_keys_are_told_from_global_keys():
    split = aws_policy.split_claim_key
    assert split(f"{EKS}:sub") == (EKS, "sub")
    assert split(f"https://{EKS}:sub") == (f"https://{EKS}", "sub")
    assert split("auth-dev.mozilla.auth0.com/:aud") == ("auth-dev.mozilla.auth0.com/", "aud")
    assert split("${oidc_host}:sub") == ("${oidc_host}", "sub")
    for key in ("aws:SourceAccount", "sts:RoleSessionName", "saml:sub", "aws:RequestTag/kubernetes-namespace"):
        assert split(key) is None, key


def test_templated_principal_takes_its_issuer_from_the_keys():
    st = statement({"StringEquals": {"${oidc_host}:sub": "system:serviceaccount:prod:app"}},
                   federated="${oidc_provider_arn}")
    assert [(fp.host, fp.inferred) for fp in st.federated] == [("${oidc_host}", True)]
    assert st.templated


def test_claims_that_may_be_absent():
    assert not aws_policy.claim_may_be_absent(GH, "repository")
    assert aws_policy.claim_may_be_absent(GH, "environment")
    assert not aws_policy.claim_may_be_absent(EKS, "sub")
    assert aws_policy.claim_may_be_absent(EKS, "kubernetes.io")


# --- Kubernetes subjects ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value,glob,ok", [
    ("system:serviceaccount:prod:app", False, True),
    ("system:serviceaccount:prod:app.v2", False, True),
    ("system:serviceaccounts:prod:app", False, False),
    ("system:serviceaccount: prod:app", False, False),
    ("system:serviceaccount:Prod:app", False, False),
    ("system:serviceaccount:prod:app:extra", False, False),
    ("system:serviceaccount:prod_x:app", False, False),
    ("system:serviceaccount:prod:*", False, False),  # literal `*` under StringEquals
    ("system:serviceaccount:prod:*", True, True),
    ("system:serviceaccount:*", True, True),  # `*` stands for `<ns>:<name>`
    ("*", True, True),
    ("system:serviceaccounts:*", True, False),
    ("system:serviceaccount:Prod:*", True, False),
    ("system:serviceaccount:pr?d:app", True, True),
    ("system:serviceaccount:prod-:app", False, False),
])
def test_kubernetes_subject_patterns_against_the_grammar(value, glob, ok):
    assert k8s_pattern_can_match(value, glob) is ok
    if not glob:
        assert is_kubernetes_subject(value) is ok  # the automaton agrees with issuers.K8S_SUBJECT


def test_kubernetes_subject_problems_are_named():
    problem = aws_policy.k8s_subject_problem
    assert "plural" in problem("system:serviceaccounts:prod:app", glob=False)
    assert "whitespace" in problem("system:serviceaccount: ${NS}:${SA}", glob=False, templated=True)
    assert problem("system:serviceaccount:${NS}:${SA}", glob=False, templated=True) is None
    assert "${NS}" in problem("system:serviceaccount:${NS}:app", glob=False)
    assert "uppercase" in problem("system:serviceaccount:Prod:app", glob=False)
    assert problem("system:serviceaccount:Prod:app", glob=False, ignore_case=True) is None
    assert "does not start" in problem("prod:app", glob=False)


# --- owners of multi-tenant issuers ----------------------------------------------------------------------

@pytest.mark.parametrize("value,glob,verdict", [
    ("repo:acme/api:ref:refs/heads/main", False, "pinned"),
    ("repo:acme/*", True, "pinned"),
    ("repo:acme@9919/api@260064828:*", True, "pinned"),
    ("repository_owner:acme:*", True, "pinned"),
    ("repo:acme*", True, "prefix"),
    ("repo:*", True, "unpinned"),
    ("*", True, "unpinned"),
    ("*:environment:prod", True, "unpinned"),
    ("environment:prod", False, "unpinned"),
    ("repo:acme*", False, "pinned"),  # literal under StringEquals (AWS005's business)
    ("repo:${org}/${repo}:*", True, "pinned"),
    ("${subject}", False, "unknown"),
    ("repo:*${x}", True, "unpinned"),
])
def test_github_subject_owner_scope(value, glob, verdict):
    assert subject_owner_scope(GH, value, glob) == verdict


def test_other_issuers_owner_scope():
    assert subject_owner_scope("gitlab.com", "project_path:group/*", True) == "pinned"
    assert subject_owner_scope("gitlab.com", "project_path:*", True) == "unpinned"
    assert subject_owner_scope("app.terraform.io", "organization:acme:project:*", True) == "pinned"
    assert subject_owner_scope("accounts.google.com", "104592342981", False) == "pinned"
    assert subject_owner_scope("accounts.google.com", "1045*", True) == "unpinned"


def test_multi_tenant_issuers_param_is_overridable(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(Path(api.__file__).parent.parent / "rules" / "AWS014.yaml", rules)
    (tmp_path / "trust.json").write_text(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": '
        '"arn:aws:iam::111122223333:oidc-provider/ci.example.com"}, "Action": "sts:AssumeRoleWithWebIdentity", '
        '"Condition": {"StringLike": {"ci.example.com:sub": "pipeline:*"}}}]}')

    def scan(params=None):
        return [f.rule for f in api.scan((str(tmp_path / "trust.json"),), rules_dir=rules, params=params).findings]

    assert scan() == []
    assert scan({"AWS014": {"multi_tenant_issuers": {"ci.example.com": ["tenant_id"]}}}) == ["AWS014"]
    assert scan({"AWS014": {"multi_tenant_issuers": ["ci.example.com"]}}) == ["AWS014"]
