"""AWS: IAM roles (trust, inline and attached policies) and OIDC providers, read-only, through boto3.

Bulk reads first: one paginated `get_account_authorization_details` gives every role with its trust and
inline policies, and the customer-managed policies with their documents, so the number of calls does not
grow with one per role. OIDC providers have no bulk call: one `list`, then one `get` per provider.

Read-only by construction: every client comes from a session whose `before-parameter-build` hook refuses
any operation outside `ALLOWED` before the request is built (IAM is a query API: every call is `POST /`, so
an HTTP-method guard would be useless). Retries use botocore's standard mode, which honours throttling.
Endpoints follow boto3's own `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_IAM` (tests point them at moto).
"""

from __future__ import annotations

from xfedlint.live import Collected, MissingExtra, NoCredentials, ReadOnlyViolation, to_json

ALLOWED = {
    "iam": {"GetAccountAuthorizationDetails", "ListOpenIDConnectProviders", "GetOpenIDConnectProvider"},
    "sts": {"GetCallerIdentity"},
}


def _refuse_writes(model, **_kwargs) -> None:
    service = model.service_model.service_name
    if model.name not in ALLOWED.get(service, ()):
        raise ReadOnlyViolation(f"refused {service}:{model.name}: xfedlint's AWS audit is read-only")


def session(profile: str | None = None, region: str | None = None):
    """A boto3 session whose every client is read-only and counts the requests it sends."""
    try:
        import boto3
    except ImportError as exc:
        raise MissingExtra("the AWS audit needs boto3: pip install 'xfedlint[aws]'") from exc
    sess = boto3.Session(profile_name=profile, region_name=region or "us-east-1")
    sess.events.register_first("before-parameter-build", _refuse_writes)
    return sess


def collect(profile: str | None = None, region: str | None = None, sess=None) -> Collected:
    """Roles, their policies and the OIDC providers of the account the credentials belong to."""
    sess = sess or session(profile, region)  # first: without boto3 it says which extra to install
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    out = Collected("aws")

    def count(**_kwargs) -> None:
        out.calls += 1

    sess.events.register("before-send", count)
    config = Config(retries={"mode": "standard", "max_attempts": 6})
    try:
        account = sess.client("sts", config=config).get_caller_identity()["Account"]
    except NoCredentialsError as exc:
        raise NoCredentials("no AWS credentials: looked for AWS_PROFILE/--aws-profile, AWS_ACCESS_KEY_ID, the "
                            "shared credentials file and an instance or container role") from exc
    except ClientError as exc:
        out.not_evaluated.append(("the AWS account", _why(exc, "sts:GetCallerIdentity")))
        return out
    iam = sess.client("iam", config=config)
    base = f"aws/{account}"
    roles: list = []
    policies: list = []
    try:
        pages = iam.get_paginator("get_account_authorization_details").paginate(Filter=["Role", "LocalManagedPolicy"])
        for page in pages:
            roles.extend(page.get("RoleDetailList", []))
            policies.extend(page.get("Policies", []))
        out.files[f"{base}/account-authorization-details.json"] = to_json(
            {"RoleDetailList": roles, "Policies": policies})
    except ClientError as exc:
        out.not_evaluated.append(("IAM roles and their policies", _why(exc, "iam:GetAccountAuthorizationDetails")))
    except BotoCoreError as exc:
        out.not_evaluated.append(("IAM roles and their policies", str(exc)))
    try:
        arns = [p["Arn"] for p in iam.list_open_id_connect_providers().get("OpenIDConnectProviderList", [])]
    except ClientError as exc:
        out.not_evaluated.append(("IAM OIDC providers", _why(exc, "iam:ListOpenIDConnectProviders")))
        arns = []
    for arn in arns:
        try:
            provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        except ClientError as exc:
            out.not_evaluated.append((f"OIDC provider {arn}", _why(exc, "iam:GetOpenIDConnectProvider")))
            continue
        provider.pop("ResponseMetadata", None)
        name = arn.rsplit("oidc-provider/", 1)[-1].replace("/", "_")
        out.files[f"{base}/oidc-providers/{name}.json"] = to_json({"Arn": arn, **provider})
    return out


def _why(exc, action: str) -> str:
    code = exc.response.get("Error", {}).get("Code", "error")
    if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
        return f"access denied: the credentials need {action}"
    return f"{code} on {action}"

