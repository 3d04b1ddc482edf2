"""``/.well-known``: what legitimately differs per format. ES256 and EdDSA publish a JWKS, v4.public
PASERK public keys, the symmetric formats nothing; after a rotation both keys are listed; the published key
verifies a token issued by the service with an independent library."""

from __future__ import annotations

import warnings
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import jwt
import pyseto
import pytest
from joserfc import jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import KeySet

from formats import FormatName
from formats.keys import generate_key_file
from service.settings import Secret, Settings

PUBLISHES = {
    FormatName.JWT_HS256: None,
    FormatName.JWT_ES256: "jwks.json",
    FormatName.JWT_EDDSA: "jwks.json",
    FormatName.PASETO_V4_LOCAL: None,
    FormatName.PASETO_V4_PUBLIC: "paserk.json",
}


def test_only_the_asymmetric_formats_publish_a_document(api, format_name) -> None:
    for name in ("jwks.json", "paserk.json", "openid-configuration"):
        response = api.client.get(f"/.well-known/{name}")
        if name == PUBLISHES[format_name]:
            assert response.status_code == 200
            assert response.headers["cache-control"] == "public, max-age=10"  # TOKENBENCH_KEYS_RELOAD
        else:
            assert response.status_code == 404
            assert response.json()["code"] == "not_found"


def test_well_known_needs_no_credentials_and_ignores_a_bad_one(api, format_name) -> None:
    name = PUBLISHES[format_name] or "jwks.json"
    plain = api.client.get(f"/.well-known/{name}")
    with_garbage = api.client.get(f"/.well-known/{name}", headers={"Authorization": "Bearer garbage"})
    assert plain.status_code == with_garbage.status_code


@pytest.fixture(params=["jwt-es256", "jwt-eddsa", "paseto-v4-public"])
def asymmetric(request):
    return FormatName(request.param)


@pytest.fixture
def base_settings(tmp_path, policy, cheap_argon2):
    """Settings without the every-format parametrization (these tests pick their format)."""
    return Settings(
        database_url=Secret(f"sqlite+aiosqlite:///{tmp_path / 'wk.db'}"),
        keys_dir=tmp_path / "keys",
        issuer=policy.issuer,
        audience=policy.audience,
        argon2=cheap_argon2,
    )


def test_rotation_publishes_the_active_and_the_retiring_key(
    make_api, base_settings, tmp_path, asymmetric
) -> None:
    keys_dir = tmp_path / "rotated-keys"
    old = generate_key_file(keys_dir, asymmetric)
    new = generate_key_file(keys_dir, asymmetric)
    api = make_api(replace(base_settings, format=asymmetric, keys_dir=keys_dir))

    document = api.client.get(f"/.well-known/{PUBLISHES[asymmetric]}").json()

    assert {key["kid"] for key in document["keys"]} == {old.kid, new.kid}
    assert api.services.fmt.active_kid == new.kid
    for key in document["keys"]:
        assert "d" not in key  # never private material
        if asymmetric is FormatName.PASETO_V4_PUBLIC:
            assert key["paserk"].startswith("k4.public.")


@pytest.mark.parametrize(("name", "alg"), [(FormatName.JWT_ES256, "ES256"), (FormatName.JWT_EDDSA, "EdDSA")])
def test_the_jwks_verifies_a_service_token_with_joserfc(make_api, base_settings, name, alg) -> None:
    api = make_api(replace(base_settings, format=name))
    token = api.token_as("alice")
    key_set = KeySet.import_key_set(api.client.get("/.well-known/jwks.json").json())
    # joserfc warns that "EdDSA" is deprecated (RFC 9864); docs/formats.md says why tokenbench keeps it.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "EdDSA is deprecated", SecurityWarning)
        verified = jws.deserialize_compact(token, key_set, algorithms=[alg])
    assert verified.headers()["typ"] == "at+jwt"
    assert b'"sub":"alice"' in verified.payload


def test_the_jwks_verifies_a_service_token_with_pyjwt(make_api, base_settings) -> None:
    api = make_api(replace(base_settings, format=FormatName.JWT_EDDSA))
    token = api.token_as("alice")
    key_set = jwt.PyJWKSet.from_dict(api.client.get("/.well-known/jwks.json").json())
    key = key_set[jwt.get_unverified_header(token)["kid"]]
    at_the_test_clock = {"verify_exp": False, "verify_iat": False, "verify_nbf": False}
    claims = jwt.decode(
        token, key.key, algorithms=["EdDSA"], audience=base_settings.audience, options=at_the_test_clock
    )
    assert claims["sub"] == "alice"


def test_the_paserk_document_verifies_a_service_token_with_pyseto(make_api, base_settings) -> None:
    api = make_api(replace(base_settings, format=FormatName.PASETO_V4_PUBLIC))
    token = api.token_as("alice")
    (entry,) = api.client.get("/.well-known/paserk.json").json()["keys"]
    key = pyseto.Key.from_paserk(entry["paserk"])
    decoded = pyseto.decode(key, token, implicit_assertion=b"tokenbench.access", deserializer=None)
    assert b'"sub":"alice"' in decoded.payload


def test_a_next_key_is_published_before_it_signs(make_api, base_settings, tmp_path, asymmetric) -> None:
    keys_dir = tmp_path / "next-keys"
    active = generate_key_file(keys_dir, asymmetric)
    upcoming = generate_key_file(keys_dir, asymmetric, activates=datetime.now(UTC) + timedelta(hours=1))
    api = make_api(replace(base_settings, format=asymmetric, keys_dir=keys_dir))

    document = api.client.get(f"/.well-known/{PUBLISHES[asymmetric]}").json()

    assert [key["kid"] for key in document["keys"]] == [active.kid, upcoming.kid]
    assert api.services.fmt.active_kid == active.kid
