"""IAM roles with one inline policy each."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from tscloud_py.aws._tags import tag_list, tags_dict
from tscloud_py.aws.retry import create_or_adopt
from tscloud_py.aws.session import call, ignoring, paginate
from tscloud_py.concurrency import each

if TYPE_CHECKING:
    from tscloud_py.aws.session import ClientFactory


def _doc(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return dict(json.loads(unquote(value)))
    return dict(value or {})


class Iam:
    def __init__(self, factory: ClientFactory) -> None:
        self.c = factory.client("iam")
        self.once = factory.client("iam", once=True)  # CreateRole has no token: see create_or_adopt

    def role(self, name: str) -> dict[str, Any] | None:
        with ignoring("NoSuchEntity"):
            role = dict(call(self.c.get_role, "iam:GetRole", RoleName=name)["Role"])
            role["AssumeRolePolicyDocument"] = _doc(role.get("AssumeRolePolicyDocument"))
            role["Tags"] = tags_dict(role.get("Tags"))
            return role
        return None

    def create_role(self, name: str, trust: dict[str, Any], tags: dict[str, str], description: str,
                    path: str = "/") -> str:
        def find() -> str | None:
            found = self.role(name)
            return str(found["Arn"]) if found else None

        return create_or_adopt(
            lambda: str(call(self.once.create_role, "iam:CreateRole", RoleName=name, Path=path,
                             AssumeRolePolicyDocument=json.dumps(trust), Description=description,
                             Tags=tag_list(tags))["Role"]["Arn"]),
            find, "iam:CreateRole", exists=("EntityAlreadyExists",))

    def update_trust(self, name: str, trust: dict[str, Any]) -> None:
        call(self.c.update_assume_role_policy, "iam:UpdateAssumeRolePolicy", RoleName=name,
             PolicyDocument=json.dumps(trust))

    def inline_policies(self, role: str) -> dict[str, dict[str, Any]]:
        """Every inline policy of ``role`` by name (fetched at once); empty if there is no such role."""
        with ignoring("NoSuchEntity"):
            names = [str(p) for p in paginate(self.c, "list_role_policies", "PolicyNames", RoleName=role)]
            docs = each(names, lambda pname: call(self.c.get_role_policy, "iam:GetRolePolicy", RoleName=role,
                                                  PolicyName=pname))
            return {pname: _doc(doc["PolicyDocument"]) for pname, doc in zip(names, docs, strict=True)}
        return {}

    def attached_policies(self, role: str) -> list[str]:
        return [str(p["PolicyArn"]) for p in paginate(self.c, "list_attached_role_policies", "AttachedPolicies",
                                                      RoleName=role)]

    def put_policy(self, role: str, name: str, document: dict[str, Any]) -> None:
        call(self.c.put_role_policy, "iam:PutRolePolicy", RoleName=role, PolicyName=name,
             PolicyDocument=json.dumps(document))

    def delete_policy(self, role: str, name: str) -> None:
        with ignoring("NoSuchEntity"):
            call(self.c.delete_role_policy, "iam:DeleteRolePolicy", RoleName=role, PolicyName=name)

    def delete_role(self, name: str) -> None:
        with ignoring("NoSuchEntity"):
            for pname in list(self.inline_policies(name)):
                self.delete_policy(name, pname)
            for arn in self.attached_policies(name):
                call(self.c.detach_role_policy, "iam:DetachRolePolicy", RoleName=name, PolicyArn=arn)
            call(self.c.delete_role, "iam:DeleteRole", RoleName=name)

    def oidc_providers(self) -> list[str]:
        """The ARN of every OpenID Connect identity provider of the account."""
        found = call(self.c.list_open_id_connect_providers, "iam:ListOpenIDConnectProviders")
        return [str(p["Arn"]) for p in found.get("OpenIDConnectProviderList", [])]

    def create_oidc_provider(self, url: str, audiences: list[str], tags: dict[str, str]) -> str:
        """No thumbprint: IAM trusts the provider's certificate through its own root CAs."""
        return create_or_adopt(
            lambda: str(call(self.once.create_open_id_connect_provider, "iam:CreateOpenIDConnectProvider",
                             Url=url, ClientIDList=audiences, Tags=tag_list(tags))["OpenIDConnectProviderArn"]),
            lambda: next((arn for arn in self.oidc_providers() if arn.endswith("/" + url.split("://", 1)[-1])),
                         None),
            "iam:CreateOpenIDConnectProvider", exists=("EntityAlreadyExists",))
