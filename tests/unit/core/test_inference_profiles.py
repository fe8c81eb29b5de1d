"""Inference-profile ids resolve to their catalog model, and are what InvokeModel is called with."""

from __future__ import annotations

import pytest

from embedrock import inference_profiles, settings
from embedrock.cache import cache_key
from embedrock.embed_spec import resolve_model, resolve_spec
from embedrock.errors import InvalidRequest

TITAN_V2 = "amazon.titan-embed-text-v2:0"


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("us.cohere.embed-v4:0", ("cohere.embed-v4:0", "us")),
        ("eu.cohere.embed-v4:0", ("cohere.embed-v4:0", "eu")),
        ("apac.amazon.titan-embed-text-v2:0", (TITAN_V2, "apac")),
        ("global.cohere.embed-v4:0", ("cohere.embed-v4:0", "global")),
        ("us-gov.amazon.titan-embed-text-v2:0", (TITAN_V2, "us-gov")),  # not read as us.
        (TITAN_V2, (TITAN_V2, None)),
        (
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.cohere.embed-v4:0",
            ("cohere.embed-v4:0", "us"),
        ),
    ],
)
def test_a_profile_id_names_its_model_and_geography(
    identifier: str, expected: tuple[str, str | None]
) -> None:
    assert tuple(inference_profiles.parse(identifier)) == expected


def test_a_profile_id_resolves_to_the_catalog_model_and_is_invoked_as_sent() -> None:
    # When a request names Titan V2 through its US profile
    spec = resolve_spec(model_id=f"us.{TITAN_V2}", dimensions=256)
    # Then validation is the model's, and InvokeModel gets the profile id
    assert spec.model.id == TITAN_V2 and spec.dimensions == 256
    assert spec.invoke_id == f"us.{TITAN_V2}"
    # And a bare model id is invoked as itself
    assert resolve_spec(model_id=TITAN_V2).invoke_id == TITAN_V2
    assert resolve_spec(model_id=None).invoke_id == TITAN_V2  # the default model


def test_a_profile_is_validated_as_its_model() -> None:
    # When a profile of Titan V2 asks for a dimension Titan V2 does not take
    with pytest.raises(InvalidRequest) as raised:
        resolve_spec(model_id=f"eu.{TITAN_V2}", dimensions=384)
    # Then the 400 is the model's, with its allowed values
    assert raised.value.param == "dimensions" and "256, 512, 1024" in raised.value.message


@pytest.mark.parametrize("bad", ["us.amazon.unknown-v9:0", "xx.amazon.titan-embed-text-v2:0", "us."])
def test_an_unknown_model_behind_a_prefix_is_400_naming_models_and_prefixes(bad: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        resolve_model(bad)
    message = raised.value.message
    assert raised.value.param == "model" and raised.value.code == "model_not_found"
    assert TITAN_V2 in message and "us.<model id>" in message and "global.<model id>" in message


def test_a_profile_and_its_model_share_cache_keys() -> None:
    # Same model version wherever the profile routes: same vectors, so one cache entry serves both
    bare, profiled = resolve_spec(model_id=TITAN_V2), resolve_spec(model_id=f"us.{TITAN_V2}")
    assert cache_key(bare, "hello") == cache_key(profiled, "hello")
    assert cache_key(bare, "hello") != cache_key(resolve_spec(model_id=TITAN_V2, dimensions=256), "hello")


def test_the_default_model_setting_takes_a_profile_id() -> None:
    assert settings.load({"EMBEDROCK_DEFAULT_MODEL": f"us.{TITAN_V2}"}).default_model_id == f"us.{TITAN_V2}"
    with pytest.raises(settings.SettingsError, match="inference profile id"):
        settings.load({"EMBEDROCK_DEFAULT_MODEL": "us.amazon.unknown-v9:0"})
    # and a geography the model has no profile in fails the cold start, not every request
    with pytest.raises(settings.SettingsError, match=r"has no apac\. profile"):
        settings.load({"EMBEDROCK_DEFAULT_MODEL": "apac.cohere.embed-v4:0"})


def test_a_file_configuration_takes_a_profile_id_and_keeps_the_models_cache_identity() -> None:
    from embedrock import cache
    from embedrock.ingest import config

    # When an upload's metadata names a profile
    profiled = config.resolve({"model": f"us.{TITAN_V2}"}, None, default_model_id=TITAN_V2)
    bare = config.resolve({"model": TITAN_V2}, None, default_model_id=TITAN_V2)
    # Then its chunks invoke the profile, and its texts are cached as the model's (same vectors)
    assert profiled.spec.invoke_id == f"us.{TITAN_V2}"
    assert cache.cache_key(profiled.spec, "a text") == cache.cache_key(bare.spec, "a text")
    # And the route is part of the run's identity: a file Bedrock refused by one id runs again by the other
    assert profiled.identity() == {**bare.identity(), "invoke_model": f"us.{TITAN_V2}"}


COHERE_V4 = "cohere.embed-v4:0"
V4_PROFILES = ("us.cohere.embed-v4:0", "eu.cohere.embed-v4:0", "global.cohere.embed-v4:0")


@pytest.mark.parametrize("profile", V4_PROFILES)
def test_each_documented_profile_of_a_model_resolves_to_it(profile: str) -> None:
    spec = resolve_spec(model_id=profile, input_type="search_query")
    assert spec.model.id == COHERE_V4 and spec.invoke_id == profile


@pytest.mark.parametrize("prefix", ["apac", "jp", "au", "us-gov"])
def test_a_geography_the_model_has_no_profile_in_is_400_listing_its_profiles(prefix: str) -> None:
    # When Cohere v4 is named through a geography its model card lists no profile for
    with pytest.raises(InvalidRequest) as raised:
        resolve_model(f"{prefix}.{COHERE_V4}")
    # Then the 400 is on model, before any Bedrock call, and lists what may be sent instead
    error = raised.value
    assert (error.param, error.code) == ("model", "inference_profile_not_found")
    assert f"{prefix}. inference profile" in error.message
    for allowed in (COHERE_V4, *V4_PROFILES):
        assert allowed in error.message


def test_a_model_whose_profiles_are_unverified_leaves_the_geography_to_bedrock() -> None:
    # Titan V2's profiles are not in the record (its model card could not be read): any geography passes
    assert inference_profiles.system_profile_ids(TITAN_V2) == ()
    assert resolve_model(f"jp.{TITAN_V2}").id == TITAN_V2


def test_a_profile_outside_the_deployments_allowed_set_is_400_naming_the_allowed_ones() -> None:
    allowed = ("us.cohere.embed-v4:0", f"us.{TITAN_V2}")
    # When a request names a profile the deployment does not allow (documented or not)
    for outside in ("eu.cohere.embed-v4:0", f"eu.{TITAN_V2}"):
        with pytest.raises(InvalidRequest) as raised:
            resolve_spec(model_id=outside, allowed_profiles=allowed)
        # Then the 400 is on model and names the allowed profiles
        error = raised.value
        assert (error.param, error.code) == ("model", "inference_profile_not_allowed")
        assert outside in error.message and all(profile in error.message for profile in allowed)
    # And the allowed ones, and bare model ids, pass
    assert resolve_spec(model_id="us.cohere.embed-v4:0", allowed_profiles=allowed).invoke_id == allowed[0]
    assert resolve_spec(model_id=TITAN_V2, allowed_profiles=()).invoke_id == TITAN_V2


def test_a_deployment_that_allows_no_profile_says_so() -> None:
    with pytest.raises(InvalidRequest) as raised:
        resolve_spec(model_id=f"us.{TITAN_V2}", allowed_profiles=())
    assert raised.value.code == "inference_profile_not_allowed" and "allows none" in raised.value.message


def test_the_allowed_profiles_setting_defaults_to_any_and_parses_a_list() -> None:
    # Unset (locally): no restriction; set by the stack: the list, or none when empty
    assert settings.load({}).inference_profiles is None
    variable = settings.variable(settings.Settings, "inference_profiles")
    loaded = settings.load({variable: " us.cohere.embed-v4:0, global.cohere.embed-v4:0 ,"})
    assert loaded.inference_profiles == ("us.cohere.embed-v4:0", "global.cohere.embed-v4:0")
    assert settings.load({variable: ""}).inference_profiles == ()


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("apac.cohere.embed-v4:0", "has no apac. profile"),
        (TITAN_V2, "is not an inference profile id"),
        ("us.amazon.unknown-v9:0", "not in the catalog"),
    ],
)
def test_a_bad_allowed_profile_fails_the_cold_start_naming_the_variable(bad: str, says: str) -> None:
    with pytest.raises(settings.SettingsError, match="EMBEDROCK_INFERENCE_PROFILES") as raised:
        settings.load({"EMBEDROCK_INFERENCE_PROFILES": f"us.cohere.embed-v4:0,{bad}"})
    assert says in str(raised.value)


def test_known_profile_ids_are_the_documented_ones() -> None:
    assert inference_profiles.known_profile_ids() == V4_PROFILES
