"""CloudFormation templates (YAML or JSON) into the documents the AWS loader reads, positions kept.

`AWS::IAM::Role` becomes a `get-role`-shaped document (trust policy, `ManagedPolicyArns`, inline
`Policies`), `AWS::IAM::OIDCProvider` a `get-open-id-connect-provider` one. Intrinsic functions, short
(`!Sub`, `!Ref`, `!GetAtt`, `!If`, `!Join`...) or long (`{"Fn::Sub": ...}`, `{"Ref": ...}`), are values
CloudFormation computes at deploy time: `!Sub` keeps its text with the `${...}` placeholders, which the
semantics treat as unknown, and every other function becomes a `${...}` placeholder naming it. A policy
document written as a JSON string (often `!Sub` around the whole document, since intrinsics cannot build map
keys) is parsed by the AWS loader, placeholders kept as text.
"""

from __future__ import annotations

from xfedlint.loaders.synth import graft, set_path, spans_of
from xfedlint.model.document import SourceDoc


def is_template(data) -> bool:
    resources = data.get("Resources") if isinstance(data, dict) else None
    return isinstance(resources, dict) and (
        "AWSTemplateFormatVersion" in data
        or any(isinstance(r, dict) and str(r.get("Type", "")).startswith(("AWS::", "Custom::"))
               for r in resources.values()))


def documents(template: SourceDoc) -> list[SourceDoc]:
    """One document per IAM role or OIDC provider of the template."""
    tags = {tuple(path): tag for path, tag, _span in template.tags}
    data = _resolve(template.data, (), tags)
    spans = spans_of(template)

    def _graft(doc: SourceDoc, dst: tuple, src: tuple, value) -> None:
        graft(doc, dst, spans, src, value, template.duplicate_keys)
        if dst not in doc.value_spans:
            doc.value_spans[dst] = template.span(src)

    out: list[SourceDoc] = []
    for name, res in (data.get("Resources") or {}).items():
        if not isinstance(res, dict) or not isinstance(res.get("Properties"), dict):
            continue
        kind, props = res.get("Type"), res["Properties"]
        base = ("Resources", name, "Properties")
        doc = SourceDoc(file=template.file, data={}, index=len(out))
        doc.fallback = template.span(("Resources", name), key=True)
        doc.value_spans[()] = doc.fallback
        if kind == "AWS::IAM::Role" and "AssumeRolePolicyDocument" in props:
            role = {"RoleName": props.get("RoleName", name)}
            set_path(doc.data, ("Role",), {})
            doc.value_spans[("Role",)] = template.span(("Resources", name))
            _graft(doc, ("Role", "RoleName"), base + ("RoleName",), role["RoleName"])
            _graft(doc, ("Role", "AssumeRolePolicyDocument"), base + ("AssumeRolePolicyDocument",),
                   props["AssumeRolePolicyDocument"])
            arns = props.get("ManagedPolicyArns")
            if isinstance(arns, list):
                set_path(doc.data, ("Role", "AttachedManagedPolicies"), [])
                for i, arn in enumerate(arns):
                    _graft(doc, ("Role", "AttachedManagedPolicies", i, "PolicyArn"),
                           base + ("ManagedPolicyArns", i), arn)
            policies = props.get("Policies")
            if isinstance(policies, list):
                set_path(doc.data, ("Role", "RolePolicyList"), [])
                for i, pol in enumerate(policies):
                    if isinstance(pol, dict) and "PolicyDocument" in pol:
                        _graft(doc, ("Role", "RolePolicyList", i), base + ("Policies", i), pol)
        elif kind == "AWS::IAM::OIDCProvider":
            _graft(doc, (), base, {})
            for src, dst in (("Url", "Url"), ("ClientIdList", "ClientIDList"), ("ThumbprintList", "ThumbprintList")):
                if src in props:
                    _graft(doc, (dst,), base + (src,), props[src])
            if "ClientIDList" not in doc.data and "ThumbprintList" not in doc.data:
                doc.data["ThumbprintList"] = []  # CloudFormation fetches the thumbprint itself when none is given
        else:
            continue
        out.append(doc)
    return out


def _resolve(value, path: tuple, tags: dict):
    """The template's data with every intrinsic function replaced by what can be known of its result."""
    tag = tags.get(path)
    if tag is not None:
        return _intrinsic(tag.lstrip("!"), value)
    if isinstance(value, dict):
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref" or (isinstance(key, str) and key.startswith("Fn::")):
                return _intrinsic(key[4:] if key.startswith("Fn::") else key,
                                  _resolve(arg, path + (key,), tags))
        return {k: _resolve(v, path + (k,), tags) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, path + (i,), tags) for i, v in enumerate(value)]
    return value


def _intrinsic(name: str, arg):
    if name == "Sub":
        text = arg[0] if isinstance(arg, list) and arg else arg
        return text if isinstance(text, str) else "${Fn::Sub}"
    if name == "Ref":
        return f"${{{arg}}}" if isinstance(arg, str) else "${Ref}"
    if name == "GetAtt":
        ref = ".".join(str(a) for a in arg) if isinstance(arg, list) else str(arg)
        return f"${{{ref}}}"
    return f"${{Fn::{name}}}"
