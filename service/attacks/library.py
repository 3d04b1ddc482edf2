"""The bare-library columns: the same hostile token given to the library's ordinary call.

"Ordinary call" means what an application writes when it uses the library directly, with the service's
key and no other option::

    jwt.decode(token, secret_or_public_pem, algorithms=["HS256" | "ES256" | "EdDSA"])
    pyseto.decode(key, token, deserializer=json)

No audience, issuer, required claims, ``typ`` check or implicit assertion: the library offers some of them,
but only as options an application has to know about. The verdict is ``accepts`` when the call returns
claims, ``rejects`` when it raises anything (the exception's class is kept: a ``TypeError`` there would be
a 500 in an application). Library warnings are recorded, never raised.
"""

from __future__ import annotations

import json
import warnings
from typing import Final

import jwt
import pyseto

from formats import FORMATS, FormatName, forge
from service.attacks.context import ALG, KeyMaterial
from service.attacks.model import Verdict

__all__ = ["ORDINARY_CALL", "fresh_key", "library_decode", "pyseto_key"]

ORDINARY_CALL: Final = {
    FormatName.JWT_HS256: 'jwt.decode(token, secret, algorithms=["HS256"])',
    FormatName.JWT_ES256: 'jwt.decode(token, public_pem, algorithms=["ES256"])',
    FormatName.JWT_EDDSA: 'jwt.decode(token, public_pem, algorithms=["EdDSA"])',
    FormatName.PASETO_V4_LOCAL: 'pyseto.decode(Key.new(4, "local", key), token, deserializer=json)',
    FormatName.PASETO_V4_PUBLIC: "pyseto.decode(Key.from_paserk(k4.public), token, deserializer=json)",
}
"""The call the bare-library columns make, per format (shown in the matrix)."""


def fresh_key(name: FormatName) -> KeyMaterial:
    """A new key of format ``name`` (for library checks that need no service)."""
    fmt = FORMATS[name]
    text = fmt.generate_key_text()
    return KeyMaterial(name, fmt.key_id_of(text, source="<fresh>"), text)


def pyseto_key(key: KeyMaterial) -> pyseto.KeyInterface:
    """The pyseto key object an application builds from the service's key (verification side)."""
    if key.format is FormatName.PASETO_V4_LOCAL:
        return pyseto.Key.new(4, "local", key.local_key)
    return pyseto.Key.from_paserk("k4.public." + forge.b64u(key.ed25519_public))


def library_decode(key: KeyMaterial, token: str | bytes) -> tuple[Verdict, str]:
    """Run the ordinary call of ``key.format``'s library on ``token``; return the verdict and a detail."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if key.format is FormatName.JWT_HS256:
                jwt.decode(token, key.hmac_secret, algorithms=[ALG[key.format]])
            elif key.format is FormatName.JWT_ES256:
                jwt.decode(token, key.ec_public_pem, algorithms=[ALG[key.format]])
            elif key.format is FormatName.JWT_EDDSA:
                jwt.decode(token, key.ed25519_public_pem, algorithms=[ALG[key.format]])
            else:
                pyseto.decode(pyseto_key(key), token, deserializer=json)
        except Exception as exc:  # noqa: BLE001 - whatever the library raises is its verdict
            return Verdict.REJECTS, type(exc).__name__
    names = sorted({w.category.__name__ for w in caught})
    return Verdict.ACCEPTS, "returned claims" + (f" (warned: {', '.join(names)})" if names else "")
