"""Permission checks: what a federated identity may do once it is in."""

from __future__ import annotations

import re
from typing import Iterator

from xfedlint.checks.base import CheckContext, Hit, related
from xfedlint.model.document import Src
from xfedlint.model.resources import AwsPolicyDocument, AwsRole, GcpIamPolicy
from xfedlint.semantics import aws_policy
from xfedlint.semantics.gcp_iam import reachable_grants

_ADMIN_ROLE = re.compile(r"^roles/.*[Aa]dmin")
BASIC_ROLES = ("roles/owner", "roles/editor")


def gcp_basic_or_admin(policy: GcpIamPolicy, ctx: CheckContext) -> Iterator[Hit]:
    """PERM002: owner/editor (error) or an *Admin role (warning) for a federated or impersonable identity."""
    for b, _m, _j, who in reachable_grants(policy, lambda role: role in BASIC_ROLES or _ADMIN_ROLE.match(role)):
        if b.role in BASIC_ROLES:
            yield Hit(f"basic role `{b.role}` is granted on the {policy.level} to {who}: near-total control; grant "
                      f"a predefined role on the resources it needs", policy.loc("bindings", b.index, "role"),
                      severity="error")
        else:
            yield Hit(f"administrative role `{b.role}` is granted on the {policy.level} to {who}; a federated "
                      f"workload rarely needs to administer: grant a narrower role (e.g. "
                      f"`roles/storage.objectViewer`)", policy.loc("bindings", b.index, "role"), severity="warning")


# --- AWS ------------------------------------------------------------------------------------------------

_PARTITION = re.compile(r"^arn:(?:aws[a-z-]*|\$\{AWS::Partition\}):")  # CloudFormation: `${AWS::Partition}`
DEFAULT_AWS_ADMIN_POLICIES = ("arn:aws:iam::aws:policy/AdministratorAccess",)
DEFAULT_AWS_BROAD_POLICIES = ("arn:aws:iam::aws:policy/PowerUserAccess", "arn:aws:iam::aws:policy/IAMFullAccess")
_BROAD_WHAT = {"PowerUserAccess": "full access to every service except IAM, Organizations and account management",
               "IAMFullAccess": "full IAM control, so it can grant itself any permission"}


def _policy_arn_key(arn: str) -> str:
    """A managed-policy ARN with its partition normalised (`arn:aws-cn:`, `arn:aws-us-gov:` and a template's
    `arn:${AWS::Partition}:` -> `arn:aws:`): the policy is the same AWS-managed one in every partition."""
    return _PARTITION.sub("arn:aws:", arn.strip())


def _attachments(role: AwsRole) -> list[tuple[str, tuple]]:
    """(policy ARN, path relative to the role) of every attached managed policy, in input order."""
    out = []
    attached = role.src.get("AttachedManagedPolicies")
    for i, p in enumerate(attached if isinstance(attached, list) else []):
        if isinstance(p, dict) and isinstance(p.get("PolicyArn"), str):
            out.append((p["PolicyArn"], ("AttachedManagedPolicies", i, "PolicyArn")))
    arns = role.src.get("ManagedPolicyArns")  # CloudFormation's AWS::IAM::Role
    for i, a in enumerate(arns if isinstance(arns, list) else []):
        if isinstance(a, str):
            out.append((a, ("ManagedPolicyArns", i)))
    return out


def _managed_documents(role: AwsRole, ctx: CheckContext) -> dict[str, AwsPolicyDocument]:
    """The default version of each managed policy that `get-account-authorization-details` lists next to the
    roles (`Policies[].PolicyVersionList[]`), by normalised ARN. Documents may be URL-encoded strings."""
    from urllib.parse import unquote

    from xfedlint.loaders.embedded import parse_embedded

    doc = role.src.doc
    policies = doc.get(("Policies",))
    out: dict[str, AwsPolicyDocument] = {}
    for i, pol in enumerate(policies if isinstance(policies, list) else []):
        if not isinstance(pol, dict) or not isinstance(pol.get("Arn"), str):
            continue
        versions = pol.get("PolicyVersionList")
        for j, v in enumerate(versions if isinstance(versions, list) else []):
            if not isinstance(v, dict) or v.get("IsDefaultVersion") is not True:
                continue
            path = ("Policies", i, "PolicyVersionList", j, "Document")
            value = v.get("Document")
            if isinstance(value, str):
                text = unquote(value) if value.lstrip().startswith("%7B") else value
                inner = parse_embedded(doc, path, text, ctx.inventory.texts.get(doc.file), exact=text is value)
                if inner is not None and isinstance(inner.data, dict):
                    out[_policy_arn_key(pol["Arn"])] = AwsPolicyDocument(src=Src(inner, ()))
            elif isinstance(value, dict):
                out[_policy_arn_key(pol["Arn"])] = AwsPolicyDocument(src=Src(doc, path))
    return out


def _admin_action(action: str) -> tuple[int, str] | None:
    """How broad an Allowed action pattern on Resource `*` is, when it is administrator-equivalent:
    (rank, what it grants), rank 0 being the broadest.

    IAM globbing: a pattern covers a whole service when it matches `<service>:` followed by anything
    (here a NUL, which no action name contains), and every service when it matches `<NUL>:<NUL>`.
    """
    a = action.lower()
    if aws_policy.glob_match(a, "\x00:\x00"):
        return 0, "every action on every resource: administrator access"
    if aws_policy.glob_match(a, "iam:\x00"):
        return 1, "every IAM action: it can grant itself any permission"
    if aws_policy.glob_match(a, "sts:assumerole"):
        return 2, "`sts:AssumeRole` on every role: it can become any role whose trust admits this account"
    return None


def _admin_statements(policy: AwsPolicyDocument):
    """(statement, action text, action path, what it grants) for each Allow statement with an
    administrator-equivalent action on Resource `*` (its broadest such action)."""
    for st in aws_policy.statements(policy):
        if not st.allows or st.not_action:
            continue
        res = st.src.get("Resource")
        if not (res == "*" or (isinstance(res, list) and "*" in res)):
            continue
        raw = st.src.get("Action")
        values = [(raw, ("Action",))] if isinstance(raw, str) else [
            (v, ("Action", i)) for i, v in enumerate(raw if isinstance(raw, list) else []) if isinstance(v, str)]
        found = [(grant, v, rel) for v, rel in values if (grant := _admin_action(v))]
        if found:
            (_rank, what), v, rel = min(found, key=lambda f: f[0][0])
            yield st, v, rel, what


def _inline_name(role: AwsRole, policy: AwsPolicyDocument) -> str | None:
    path = policy.src.doc.prefix + policy.src.base
    if "RolePolicyList" in path:
        i = path[path.index("RolePolicyList") + 1]
        name = role.src.doc.get(path[: path.index("RolePolicyList") + 2] + ("PolicyName",))
        return str(name) if name is not None else f"#{i}"
    return None


def aws_admin_equivalent(role: AwsRole, ctx: CheckContext) -> Iterator[Hit]:
    """PERM001: a federated role with AdministratorAccess (error), PowerUserAccess/IAMFullAccess (warning),
    or an Allow statement of `*`, `iam:*` or `sts:AssumeRole` on Resource `*` (error)."""
    if role.trust is None or next(aws_policy.oidc_trust_statements(role.trust), None) is None:
        return  # not a federated role: no OIDC provider's tokens can assume it
    admin = {_policy_arn_key(a) for a in ctx.param("admin_policies", DEFAULT_AWS_ADMIN_POLICIES)}
    broad = {_policy_arn_key(a) for a in ctx.param("broad_policies", DEFAULT_AWS_BROAD_POLICIES)}
    who = f"federated {role.label}"
    managed = None
    for arn, rel in _attachments(role):
        key = _policy_arn_key(arn)
        name = arn.rsplit("/", 1)[-1]
        if key in admin:
            yield Hit(f"{who} has the managed policy `{name}` attached: whoever passes its trust gets "
                      f"administrator access to the account; attach a policy limited to what the workload does",
                      role.src.loc(*rel), severity="error")
            continue
        if key in broad:
            yield Hit(f"{who} has the managed policy `{name}` attached: {_BROAD_WHAT.get(name, 'broad access')}; "
                      f"attach a policy limited to what the workload does", role.src.loc(*rel), severity="warning")
            continue
        if managed is None:
            managed = _managed_documents(role, ctx)
        policy = managed.get(key)
        for st, value, arel, what in (_admin_statements(policy) if policy is not None else ()):
            yield Hit(f"{who} has the managed policy `{name}` attached, which allows `{value}` on Resource `*`: "
                      f"{what}", role.src.loc(*rel), severity="error",
                      related=(related(st.loc(arel), f"`{value}` allowed on `*` in `{name}`"),))
            break
    for policy in role.inline_policies:
        pname = _inline_name(role, policy)
        label = f"inline policy `{pname}`" if pname else "an inline policy"
        for st, value, arel, what in _admin_statements(policy):
            yield Hit(f"{who}: {label} allows `{value}` on Resource `*`: {what}", st.loc(arel), severity="error")
