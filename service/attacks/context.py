"""What an attacker knows about a target, and the tools to forge tokens for it.

A :class:`Context` is built either for the running service (sample tokens from a real login, public keys
from the well-known endpoints, and, when the key files are readable, the active key as a leaked or
co-issuer key would be) or for the bare library's ordinary call (the same key material, tokens minted
here). Attack builders only talk to a ``Context``, so one builder serves both sets of columns.

The two profiles differ only where the bare library has no notion of something: the service profile binds
the kind (``typ`` header, implicit assertion) and carries the service's ``iss``/``aud``; the library profile
mints what an application using ``pyjwt.decode(token, key, algorithms=[ALG])`` or
``pyseto.decode(key, token, deserializer=json)`` with no other option would accept.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any, Final

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from formats import FormatName, Kind, forge
from service.attacks.contract import IMPLICIT_ASSERTION, JWT_TYP, footer_for
from service.attacks.model import NeedsKeyError, NeedsOperatorError, Operator, Profile, ServiceApi

__all__ = ["ALG", "DROP", "Context", "KeyMaterial", "read_claims"]

DROP: Final = object()
"""A claim change that removes the claim."""

ALG: Final = {FormatName.JWT_HS256: "HS256", FormatName.JWT_ES256: "ES256", FormatName.JWT_EDDSA: "EdDSA"}
_LIFETIME: Final = 600


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    """One key of a format's ring, from its key-file text (JWK or PASERK)."""

    format: FormatName
    kid: str
    text: str

    @property
    def hmac_secret(self) -> bytes:
        """The HS256 secret."""
        return forge.jwk_secret(self.text)

    @property
    def ec_private(self) -> ec.EllipticCurvePrivateKey:
        """The ES256 private key."""
        return forge.jwk_ec_private_key(self.text)

    @property
    def ec_public_pem(self) -> bytes:
        """The ES256 public key as PEM (what an application hands to ``pyjwt.decode``)."""
        return self.ec_private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def local_key(self) -> bytes:
        """The 32-byte v4.local key."""
        return forge.paserk_bytes(self.text)

    @property
    def ed25519_secret(self) -> bytes:
        """The 64-byte Ed25519 secret key (seed || public), of a jwt-eddsa JWK or a k4.secret PASERK."""
        if self.format is FormatName.JWT_EDDSA:
            return forge.ed25519_secret(forge.jwk_okp_seed(self.text))
        return forge.ed25519_secret(forge.paserk_bytes(self.text)[:32])

    @property
    def ed25519_public_pem(self) -> bytes:
        """The jwt-eddsa public key as PEM (what an application hands to ``pyjwt.decode``)."""
        public = Ed25519PublicKey.from_public_bytes(self.ed25519_public)
        return public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def ed25519_public(self) -> bytes:
        """The 32-byte Ed25519 public key."""
        return self.ed25519_secret[32:]

    def sign(self, signing_input: bytes) -> bytes:
        """A valid JWS signature over exactly ``signing_input`` (HS256, ES256 or EdDSA)."""
        if self.format is FormatName.JWT_HS256:
            return forge.hmac_signer(self.hmac_secret)(signing_input)
        if self.format is FormatName.JWT_EDDSA:
            return forge.ed25519_signer(self.ed25519_secret)(signing_input)
        return forge.ecdsa_signer(self.ec_private, hashes.SHA256())(signing_input)


def read_claims(name: FormatName, token: str, key: KeyMaterial | None) -> dict[str, Any] | None:
    """The claims a token carries, read without verifying; None if they cannot be read (v4.local, no key)."""
    if name in ALG:
        value = json.loads(forge.jws_split(token)[1])
    elif name is FormatName.PASETO_V4_PUBLIC:
        value = json.loads(forge.paseto_split(token)[1][:-64])
    elif key is None:
        return None
    else:
        value = json.loads(forge.v4_local_open(key.local_key, token))
    return value if isinstance(value, dict) else None


@dataclass(kw_only=True)
class Context:
    """An attacker's view of one target (the service, or the bare library) in one format."""

    format: FormatName
    profile: Profile
    now: datetime
    subject: str
    perms: tuple[str, ...]
    issuer: str | None = None
    audience: str | None = None
    key: KeyMaterial | None = None
    public_jwks: Mapping[str, Any] | None = None
    public_paserk: Mapping[str, Any] | None = None
    samples: dict[Kind, str] = field(default_factory=dict)
    refresh_claims: Mapping[str, Any] = field(default_factory=dict)
    jku_url: str = "http://127.0.0.1:9/jwks.json"
    jku_hits: Callable[[], int] | None = None
    """How many requests reached ``jku_url`` so far (service runs only)."""
    http: ServiceApi | None = None
    operator: Operator | None = None
    """Account operations on the service's database (in-process runs only)."""
    """The running service's routes (scenarios and checks only)."""

    # --- key material -------------------------------------------------------------------------------

    def require_key(self) -> KeyMaterial:
        """The active key, or NeedsKeyError when the attacker cannot read the key files."""
        if self.key is None:
            raise NeedsKeyError("needs the service's key files (--keys-dir)")
        return self.key

    @property
    def format_header(self) -> str:
        """``v4.local.`` / ``v4.public.`` (PASETO formats only)."""
        return "v4.local." if self.format is FormatName.PASETO_V4_LOCAL else "v4.public."

    def require_http(self) -> ServiceApi:
        """The running service's routes; scenarios run only against a service."""
        if self.http is None:
            raise NeedsKeyError("needs a running service")
        return self.http

    def require_operator(self) -> Operator:
        """The operator of the service's database; account-layer scenarios run only in-process."""
        if self.operator is None:
            raise NeedsOperatorError("needs the service's database (run in-process, without --url)")
        return self.operator

    @cached_property
    def kid(self) -> str:
        """The active key id, known from a sample token even without the key files."""
        if self.key is not None:
            return self.key.kid
        token = self.samples[Kind.ACCESS]
        if self.format in ALG:
            kid: str = json.loads(forge.jws_split(token)[0])["kid"]
        else:
            kid = json.loads(forge.paseto_split(token)[2])["kid"]
        return kid

    def ec_public_key(self) -> ec.EllipticCurvePublicKey:
        """The ES256 verification key: from the published JWKS, else from the key file."""
        if self.public_jwks is not None:
            jwk = next(k for k in self.public_jwks["keys"] if k.get("kid") == self.kid)
            x, y = (int.from_bytes(forge.b64u_lenient(jwk[m]), "big") for m in ("x", "y"))
            return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        return self.require_key().ec_private.public_key()

    def ed25519_public(self) -> bytes:
        """The jwt-eddsa or v4.public verification key: from the published key set, else the key file."""
        if self.format is FormatName.JWT_EDDSA and self.public_jwks is not None:
            jwk = next(k for k in self.public_jwks["keys"] if k.get("kid") == self.kid)
            return forge.b64u_lenient(jwk["x"])
        if self.format is FormatName.PASETO_V4_PUBLIC and self.public_paserk is not None:
            entry = next(k for k in self.public_paserk["keys"] if k.get("kid") == self.kid)
            return forge.paserk_bytes(entry["paserk"])
        return self.require_key().ed25519_public

    # --- claims -------------------------------------------------------------------------------------

    def at(self, seconds: float) -> Any:
        """The wire form of ``now + seconds``: NumericDate for JWT, RFC 3339 for PASETO."""
        moment = self.now + timedelta(seconds=seconds)
        if self.format in ALG:
            return int(moment.timestamp())
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def claims(self, kind: Kind = Kind.ACCESS, **changes: Any) -> dict[str, Any]:
        """Valid claims for this target (role ``admin``: the prize), with ``changes`` applied.

        A change to :data:`DROP` removes the claim; any other value replaces it verbatim.
        """
        claims: dict[str, Any] = {
            "sub": self.subject,
            "role": "admin",
            "perms": list(self.perms),
            "iat": self.at(-5),
            "nbf": self.at(-5),
            "exp": self.at(_LIFETIME),
            "jti": secrets.token_urlsafe(16),
        }
        if self.issuer is not None:
            claims["iss"] = self.issuer
        if self.audience is not None:
            claims["aud"] = self.audience
        if kind is Kind.REFRESH:
            claims["role"] = self.refresh_claims.get("role", "user")
            claims["fam"] = self.refresh_claims.get("fam", secrets.token_urlsafe(16))
            claims["ver"] = self.refresh_claims.get("ver", 0)
        for name, value in changes.items():
            if value is DROP:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    # --- minting ------------------------------------------------------------------------------------

    def implicit(self, kind: Kind) -> bytes:
        """The implicit assertion this target binds the kind to (none for the bare library)."""
        return IMPLICIT_ASSERTION[kind] if self.profile is Profile.SERVICE else b""

    def header(self, kind: Kind = Kind.ACCESS, **changes: Any) -> dict[str, Any]:
        """The JWS header the target's issuer writes, with ``changes`` applied (DROP removes)."""
        header: dict[str, Any] = {"alg": ALG[self.format], "kid": self.kid, "typ": JWT_TYP[kind]}
        for name, value in changes.items():
            if value is DROP:
                header.pop(name, None)
            else:
                header[name] = value
        return header

    def footer(self) -> bytes:
        """The PASETO footer the target's issuer writes."""
        return footer_for(self.kid)

    def mint(
        self,
        payload: forge.Piece,
        *,
        kind: Kind = Kind.ACCESS,
        header: forge.Piece | None = None,
        footer: forge.Piece | None = None,
        implicit: bytes | None = None,
    ) -> str:
        """A token signed or encrypted with the target's active key (a leaked or co-issuer key)."""
        key = self.require_key()
        if self.format in ALG:
            return forge.jws(self.header(kind) if header is None else header, payload, sign=key.sign)
        footer = self.footer() if footer is None else footer
        implicit = self.implicit(kind) if implicit is None else implicit
        if self.format is FormatName.PASETO_V4_LOCAL:
            return forge.v4_local(key.local_key, payload, footer=footer, implicit=implicit)
        return forge.v4_public(key.ed25519_secret, payload, footer=footer, implicit=implicit)

    def forge_claims(self, kind: Kind = Kind.ACCESS, **changes: Any) -> str:
        """``mint(claims(kind, **changes), kind=kind)``: the commonest forgery."""
        return self.mint(self.claims(kind, **changes), kind=kind)

    def sample(self, kind: Kind = Kind.ACCESS) -> str:
        """A genuine token of ``kind`` (from a login for the service; minted for the library)."""
        token = self.samples.get(kind)
        if token is None:
            token = self.samples[kind] = self.forge_claims(kind)
        return token

    # --- construction -------------------------------------------------------------------------------

    @classmethod
    def for_library(cls, name: FormatName, key: KeyMaterial, *, now: datetime | None = None) -> Context:
        """The bare library's view: same key, no kind binding, no ``iss``/``aud``."""
        return cls(
            format=name,
            profile=Profile.LIBRARY,
            now=now or datetime.now(UTC),
            subject="user-1",
            perms=("profile:read",),
            key=key,
        )
