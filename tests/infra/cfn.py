"""Reading a synthesized CloudFormation template: intrinsics rendered as `${Ref}` strings."""

from __future__ import annotations

from typing import Any

Resources = dict[str, dict[str, Any]]


def render(value: Any) -> str:
    """`{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}]]}` -> `arn:${AWS::Partition}`."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"${{{value['Ref']}}}"
    if "Fn::GetAtt" in value:
        return f"${{{'.'.join(value['Fn::GetAtt'])}}}"
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(render(part) for part in parts)
    if "Fn::Select" in value:  # `${Select 0 of Split - of ${AWS::StackId}}`
        index, items = value["Fn::Select"]
        return f"${{Select {index} of {render(items)}}}"
    if "Fn::Split" in value:
        separator, text = value["Fn::Split"]
        return f"Split {separator} of {render(text)}"
    raise ValueError(f"cannot render {value!r}")


def of_type(resources: Resources, resource_type: str) -> Resources:
    return {logical_id: r for logical_id, r in resources.items() if r["Type"] == resource_type}


def only(resources: Resources, resource_type: str) -> tuple[str, dict[str, Any]]:
    (item,) = of_type(resources, resource_type).items()
    return item


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def function_named(resources: Resources, name: str) -> tuple[str, dict[str, Any]]:
    """The Lambda function of routes.Function `name`, found by its Powertools service name."""
    (item,) = [
        (logical_id, resource)
        for logical_id, resource in of_type(resources, "AWS::Lambda::Function").items()
        if resource["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        == f"embedrock-{name}"
    ]
    return item


def role_statements(resources: Resources, role_id: str) -> list[dict[str, Any]]:
    """Every statement granted to a role: its inline policies and the policies attached to it."""
    role = resources[role_id]["Properties"]
    documents = [policy["PolicyDocument"] for policy in role.get("Policies", [])]
    documents += [
        policy["Properties"]["PolicyDocument"]
        for policy in of_type(resources, "AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
    ]
    return [statement for document in documents for statement in document["Statement"]]


def resource_path(resources: Resources, resource_ref: dict[str, Any]) -> str:
    """The URL path of an AWS::ApiGateway::Resource, from its chain of PathParts."""
    if "Fn::GetAtt" in resource_ref:  # the RestApi's RootResourceId
        return ""
    resource = resources[resource_ref["Ref"]]["Properties"]
    return f"{resource_path(resources, resource['ParentId'])}/{resource['PathPart']}"
