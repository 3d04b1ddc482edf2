"""Verify a tokenbench access token in another Python service with joserfc (jwt-hs256, jwt-es256, jwt-eddsa).

The same checks as ``verify_pyjwt.py``, spelled the joserfc way: ``algorithms=[...]`` pinned to the
format's one algorithm, the key set chosen by the header's ``kid`` (joserfc's ``KeySet`` does it), the
header ``typ`` ``at+jwt`` checked by hand, and a ``JWTClaimsRegistry`` that makes ``exp``, ``iat``,
``nbf``, ``sub``, ``jti`` (and ``iss``, ``aud`` when given) essential, with 30 seconds of leeway.

Prints the claims as JSON and exits 0, or prints ``refused: <reason>`` and exits 1. ``URL`` is the
service's address (http://127.0.0.1:8000 after ``make run``); add ``--issuer`` and ``--audience`` with the
values of its ``TOKENBENCH_ISSUER`` and ``TOKENBENCH_AUDIENCE``::

    .venv/bin/python docs/examples/verify_joserfc.py --format jwt-eddsa --issuer-url "$URL" "$TOKEN"
    .venv/bin/python docs/examples/verify_joserfc.py --format jwt-hs256 --keys-dir var/keys/jwt-hs256 "$TOKEN"

``tests/service/test_docs_verify_elsewhere.py`` runs it against tokens of a running ``tokenbench serve``.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
import warnings
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import KeySet

ALGORITHM = {"jwt-hs256": "HS256", "jwt-es256": "ES256", "jwt-eddsa": "EdDSA"}
ACCESS_TYP = "at+jwt"
LEEWAY = 30


def key_set(*, format_name: str, issuer_url: str | None, keys_dir: Path | None) -> KeySet:
    """The issuer's published JWKS (ES256, EdDSA) or the shared HS256 key files."""
    if format_name == "jwt-hs256":
        if keys_dir is None:
            raise ValueError("jwt-hs256 needs keys_dir, the directory of the shared key files")
        keys = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(keys_dir.glob("*.jwk"))]
        return KeySet.import_key_set({"keys": keys})
    if issuer_url is None:
        raise ValueError(f"{format_name} needs issuer_url, whose /.well-known/jwks.json it reads")
    with urllib.request.urlopen(f"{issuer_url}/.well-known/jwks.json", timeout=5) as response:  # noqa: S310
        return KeySet.import_key_set(json.load(response))


def verify_access_token(
    token: str,
    *,
    format_name: str,
    issuer_url: str | None = None,
    keys_dir: Path | None = None,
    issuer: str | None = None,
    audience: str | None = None,
) -> dict[str, Any]:
    """The claims of a valid tokenbench access token; raises ``joserfc.errors.JoseError`` otherwise."""
    keys = key_set(format_name=format_name, issuer_url=issuer_url, keys_dir=keys_dir)
    with warnings.catch_warnings():
        # joserfc warns that "EdDSA" is deprecated by RFC 9864 (which names it "Ed25519"); tokenbench
        # writes "EdDSA", the name every JOSE library reads (docs/formats.md).
        warnings.simplefilter("ignore", SecurityWarning)
        decoded = jwt.decode(token, keys, algorithms=[ALGORITHM[format_name]])
    if decoded.header.get("typ") != ACCESS_TYP:  # kind binding: a refresh token says rt+jwt
        raise JoseError(f"typ must be {ACCESS_TYP}, got {decoded.header.get('typ')!r}")
    essential: dict[str, Any] = {name: {"essential": True} for name in ("exp", "iat", "nbf", "sub", "jti")}
    if issuer:
        essential["iss"] = {"essential": True, "value": issuer}
    if audience:
        essential["aud"] = {"essential": True, "value": audience}
    jwt.JWTClaimsRegistry(leeway=LEEWAY, **essential).validate(decoded.claims)
    return dict(decoded.claims)


def main(argv: list[str] | None = None) -> int:
    """Verify the token given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--format", required=True, choices=sorted(ALGORITHM))
    parser.add_argument("--issuer-url", help="the issuer's base URL (jwt-es256, jwt-eddsa)")
    parser.add_argument("--keys-dir", type=Path, help="the shared secret's key directory (jwt-hs256)")
    parser.add_argument("--issuer", help="the expected iss (TOKENBENCH_ISSUER)")
    parser.add_argument("--audience", help="the expected aud (TOKENBENCH_AUDIENCE)")
    parser.add_argument("token")
    args = parser.parse_args(argv)
    try:
        claims = verify_access_token(
            args.token,
            format_name=args.format,
            issuer_url=args.issuer_url,
            keys_dir=args.keys_dir,
            issuer=args.issuer,
            audience=args.audience,
        )
    except (JoseError, ValueError) as exc:
        print(f"refused: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(claims, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
