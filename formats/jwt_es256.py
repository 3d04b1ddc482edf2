"""``jwt-es256``: JWS compact, ECDSA P-256 with SHA-256; public keys published as a JWKS."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from formats._codec import b64url_encode
from formats._jwt_common import JwtFormat, jwk_bytes, jwk_thumbprint, parse_jwk
from formats.base import FormatName
from formats.errors import KeyConfigError, TokenBadSignature

__all__ = ["JwtEs256"]

_ECDSA: Final = ec.ECDSA(hashes.SHA256())
_COORD: Final = 32
_FIX: Final = "regenerate it with `tokenbench keys generate --format jwt-es256`"

EcKey = ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey


def public_jwk(key: ec.EllipticCurvePublicKey, kid: str) -> dict[str, str]:
    """The public JWK of a P-256 key, as published in the JWKS."""
    numbers = key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url_encode(numbers.x.to_bytes(_COORD, "big")),
        "y": b64url_encode(numbers.y.to_bytes(_COORD, "big")),
        "alg": "ES256",
        "use": "sig",
        "kid": kid,
    }


class JwtEs256(JwtFormat[EcKey]):
    """ECDSA P-256 JWS with ``typ`` kind binding; keys are ``EC`` JWKs on ``P-256``.

    The active key must include its private part ``d``; retiring keys may be public only.
    """

    name: ClassVar = FormatName.JWT_ES256
    key_file_suffix: ClassVar = ".jwk"
    alg: ClassVar = "ES256"

    @classmethod
    def parse_key(cls, text: str, *, source: str) -> tuple[str, EcKey]:
        """An ``EC`` JWK on ``P-256`` whose point is on the curve (and ``d`` matches it, if present)."""
        kid, jwk = parse_jwk(text, source=source, kty="EC", alg=cls.alg, fix=_FIX)
        if jwk.get("crv") != "P-256":
            raise KeyConfigError(f"{source}: JWK crv is {jwk.get('crv')!r}; ES256 needs a P-256 key; {_FIX}")
        x, y = (jwk_bytes(jwk, m, source=source, fix=_FIX) for m in ("x", "y"))
        if len(x) != _COORD or len(y) != _COORD:
            raise KeyConfigError(f"{source}: P-256 coordinates x and y are 32 bytes each; {_FIX}")
        public = ec.EllipticCurvePublicNumbers(
            int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
        )
        try:
            if "d" in jwk:
                d = jwk_bytes(jwk, "d", source=source, fix=_FIX)
                if len(d) != _COORD:
                    raise KeyConfigError(f"{source}: P-256 private scalar d is 32 bytes; {_FIX}")
                key: EcKey = ec.EllipticCurvePrivateNumbers(int.from_bytes(d, "big"), public).private_key()
            else:
                key = public.public_key()
        except ValueError as exc:
            raise KeyConfigError(f"{source}: not a valid P-256 key ({exc}); {_FIX}") from exc
        return kid, key

    @classmethod
    def generate_key_text(cls) -> str:
        """A new P-256 private JWK whose kid is its RFC 7638 thumbprint."""
        private = ec.generate_private_key(ec.SECP256R1())
        pub = public_jwk(private.public_key(), "")
        kid = jwk_thumbprint({m: pub[m] for m in ("crv", "kty", "x", "y")})
        d = b64url_encode(private.private_numbers().private_value.to_bytes(_COORD, "big"))
        return json.dumps({**pub, "kid": kid, "d": d})

    @classmethod
    def _material(cls, key: EcKey) -> bytes | None:
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.private_numbers().private_value.to_bytes(_COORD, "big")
        return None

    def _verify_key(self, key: EcKey) -> ec.EllipticCurvePublicKey:
        return key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key

    def _signing_key(self) -> ec.EllipticCurvePrivateKey:
        key = self._keys[self._signer_kid()]
        assert isinstance(key, ec.EllipticCurvePrivateKey)  # guaranteed by _check_signing_key
        return key

    def _check_signing_key(self, key: EcKey) -> None:
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise KeyConfigError(
                f"the newest {self.name} key {self._active_kid!r} has no private part (d) and cannot sign; "
                "add a private JWK or run `tokenbench keys rotate --format jwt-es256`"
            )

    def _check_signature(self, key: Any, signing_input: bytes, signature: bytes) -> None:
        if len(signature) != 2 * _COORD:
            raise TokenBadSignature("ES256 signature is 64 bytes r||s")
        r = int.from_bytes(signature[:_COORD], "big")
        s = int.from_bytes(signature[_COORD:], "big")
        try:
            key.verify(encode_dss_signature(r, s), signing_input, _ECDSA)
        except (InvalidSignature, ValueError) as exc:
            raise TokenBadSignature("ECDSA signature does not verify") from exc

    def well_known(self) -> Mapping[str, Any]:
        """``jwks.json``: the public keys of the ring, active first."""
        return {"jwks.json": {"keys": [public_jwk(self._verify_key(self._keys[k]), k) for k in self.kids]}}
