"""`embedrock models` (list) and `embedrock models request-access MODEL...`.

Both run with the caller's own AWS credentials and region (boto3's usual chain; the
AWS_ENDPOINT_URL_BEDROCK variable points them at an emulator instead). The Lambda functions never
request agreements: accepting a model's terms is a decision for a person, made once per account.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from embedrock_local.commands import add_command

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient

    from embedrock.api.model_schemas import ModelInfo

MODELS_TEXTS = (
    "list the embedding models, their inference profiles and this account's access; request access",
    (
        "List the embedding models Bedrock offers in your region with what the catalog knows, the "
        "inference profiles that route to each, and what GetFoundationModelAvailability says for your "
        "account (so a missing Marketplace agreement shows before the first paid call). "
        "`embedrock models request-access MODEL...` requests the agreement of third-party models. "
        "Uses your AWS credentials and region."
    ),
)
REQUEST_TEXTS = (
    "request the Marketplace agreement of models (ListFoundationModelAgreementOffers, CreateFoundationModelAgreement)",
    (
        "For each MODEL (a catalog model id, or an inference profile id of one), show the offer's terms "
        "and accept it with CreateFoundationModelAgreement, using your own AWS credentials. Models whose "
        "agreement is already AVAILABLE are left alone. --dry-run only shows the terms. Agreements can "
        "take a few minutes to become AVAILABLE; run `embedrock models` to see their status."
    ),
)
FAILED = 1


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(subparsers, "models", MODELS_TEXTS)
    parser.add_argument("--provider", help="only this provider, e.g. Amazon or Cohere")
    parser.add_argument("--json", action="store_true", help="print the GET /models body instead of a table")
    actions = parser.add_subparsers(dest="models_action", metavar="{request-access}")
    request = add_command(actions, "request-access", REQUEST_TEXTS)
    request.add_argument("model_ids", nargs="+", metavar="MODEL", help="catalog model ids or profile ids")
    request.add_argument("--dry-run", action="store_true", help="show the offers' terms; accept nothing")
    request.add_argument(
        "--offer-type", choices=("PUBLIC", "ALL"), default="PUBLIC", help="which offers to read"
    )


def run(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from embedrock.errors import ApiError
    from embedrock.settings import SettingsError

    try:
        client = _control_client()
        if args.models_action == "request-access":
            return request_access(client, args.model_ids, dry_run=args.dry_run, offer_type=args.offer_type)
        return list_models(client, provider=args.provider, as_json=args.json)
    except ApiError as error:
        print(f"embedrock models: {error.message}", file=sys.stderr)
    except SettingsError as error:
        print(f"embedrock models: {error}", file=sys.stderr)
    except (ClientError, BotoCoreError) as error:
        print(f"embedrock models: {error}", file=sys.stderr)
    return FAILED


def _control_client() -> BedrockClient:
    from embedrock import settings as settings_module
    from embedrock import wiring

    return wiring.build_control_client(settings_module.load(dict(os.environ)))


def list_models(client: BedrockClient, *, provider: str | None = None, as_json: bool = False) -> int:
    from embedrock.api.model_schemas import ModelList
    from embedrock.api.services import model_info

    models = model_info.list_models(client, provider)
    if as_json:
        print(ModelList(models=models).model_dump_json(indent=2))
        return 0
    rows = [("model", "supported", "invoke with", "access")] + [_row(model) for model in models]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    needing = [
        m.id for m in models if m.supported and m.access and m.access.agreement_status == "NOT_AVAILABLE"
    ]
    if needing:
        print(f"\nNo Marketplace agreement yet for: {', '.join(needing)}.")
        print(f"Request it with your own credentials: embedrock models request-access {' '.join(needing)}")
    return 0


def _row(model: ModelInfo) -> tuple[str, str, str, str]:
    profiles = [profile.id for profile in model.inference_profiles or []]
    if model.requires_inference_profile:
        invoke = ", ".join(profiles) or "an inference profile (none listed)"
    else:
        invoke = ", ".join([model.id, *profiles]) if model.supported else "-"
    return (model.id, "yes" if model.supported else "no", invoke, _access(model))


def _access(model: ModelInfo) -> str:
    access = model.access
    if access is None:
        return "unknown" if model.supported else "-"
    if access.ready:
        return "ready"
    problems = [
        f"{name} {value}"
        for name, value, good in (
            ("authorization", access.authorization_status, "AUTHORIZED"),
            ("agreement", access.agreement_status, "AVAILABLE"),
            ("entitlement", access.entitlement_availability, "AVAILABLE"),
            ("region", access.region_availability, "AVAILABLE"),
        )
        if value != good
    ]
    return ", ".join(problems)


def request_access(
    client: BedrockClient,
    model_ids: Sequence[str],
    *,
    dry_run: bool = False,
    offer_type: Literal["PUBLIC", "ALL"] = "PUBLIC",
) -> int:
    from embedrock.api.services.model_info import access_view
    from embedrock.bedrock.error_mapping import bedrock_errors
    from embedrock.embed_spec import resolve_model

    # Every id is checked before any agreement is made: one typo accepts nothing.
    models = [resolve_model(model_id, param="MODEL") for model_id in model_ids]
    failed = False
    for model in dict.fromkeys(models):
        with bedrock_errors(model.id, invoking=False):
            access = access_view(client.get_foundation_model_availability(modelId=model.id))
            if access.agreement_status in ("AVAILABLE", "PENDING"):
                print(f"{model.id}: agreement already {access.agreement_status}; nothing to do.")
                continue
            offers = client.list_foundation_model_agreement_offers(modelId=model.id, offerType=offer_type)
            choices = offers.get("offers", [])
            if not choices:
                print(f"{model.id}: Bedrock lists no {offer_type} offer for this model.", file=sys.stderr)
                failed = True
                continue
            offer = choices[0]
            print(f"{model.id}: offer {offer.get('offerId', '(no id)')}")
            for line in _terms(offer.get("termDetails", {})):
                print(f"  {line}")
            if dry_run:
                print("  dry run: no agreement made.")
                continue
            client.create_foundation_model_agreement(offerToken=offer["offerToken"], modelId=model.id)
            print("  agreement requested; `embedrock models` shows when it is AVAILABLE.")
    return FAILED if failed else 0


def _terms(details: Mapping[str, Any]) -> list[str]:
    lines = [
        f"price: {rate.get('price')} per {rate.get('unit', 'unit')} of {rate.get('dimension')}"
        + (f" ({rate['description']})" if rate.get("description") else "")
        for rate in details.get("usageBasedPricingTerm", {}).get("rateCard", [])
    ]
    if url := details.get("legalTerm", {}).get("url"):
        lines.append(f"terms: {url}")
    if refund := details.get("supportTerm", {}).get("refundPolicyDescription"):
        lines.append(f"refunds: {refund}")
    if duration := (details.get("validityTerm") or {}).get("agreementDuration"):
        lines.append(f"duration: {duration}")
    return lines or [json.dumps(details)]
