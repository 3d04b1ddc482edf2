"""Verify a tokenbench access token in another Python service with pyjwt (jwt-hs256, jwt-es256, jwt-eddsa).

The options that matter, each one a check tokenbench makes too (docs/verify-elsewhere.md explains them):

* the one algorithm of the format in ``algorithms=[...]``, never read from the token;
* the header ``typ`` ``at+jwt`` (an access token; a refresh token says ``rt+jwt``), which pyjwt does not
  check by itself;
* the key by the header's ``kid``: from the issuer's ``/.well-known/jwks.json`` (ES256, EdDSA) or from the
  shared secret's key file (HS256);
* ``exp``, ``iat``, ``nbf``, ``sub``, ``jti`` required, ``iss`` and ``aud`` required and equal when given,
  30 seconds of leeway (the service's default ``TOKENBENCH_LEEWAY``).

Prints the claims as JSON and exits 0, or prints ``refused: <reason>`` and exits 1. ``URL`` is the
service's address (http://127.0.0.1:8000 after ``make run``); add ``--issuer`` and ``--audience`` with the
values of its ``TOKENBENCH_ISSUER`` and ``TOKENBENCH_AUDIENCE``::

    .venv/bin/python docs/examples/verify_pyjwt.py --format jwt-es256 --issuer-url "$URL" "$TOKEN"
    .venv/bin/python docs/examples/verify_pyjwt.py --format jwt-hs256 --keys-dir var/keys/jwt-hs256 "$TOKEN"

``tests/service/test_docs_verify_elsewhere.py`` runs it against tokens of a running ``tokenbench serve``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import jwt

ALGORITHM = {"jwt-hs256": "HS256", "jwt-es256": "ES256", "jwt-eddsa": "EdDSA"}
ACCESS_TYP = "at+jwt"
LEEWAY = 30


def secret_key(keys_dir: Path, kid: str) -> jwt.PyJWK:
    """The HS256 secret whose RFC 7638 thumbprint is ``kid``: every holder of it can also sign."""
    for path in sorted(keys_dir.glob("*.jwk")):
        jwk = json.loads(path.read_text(encoding="utf-8"))
        if jwk.get("kid") == kid:
            return jwt.PyJWK(jwk, algorithm="HS256")
    raise jwt.InvalidKeyError(f"no key file in {keys_dir} with kid {kid}")


def verify_access_token(
    token: str,
    *,
    format_name: str,
    issuer_url: str | None = None,
    keys_dir: Path | None = None,
    issuer: str | None = None,
    audience: str | None = None,
) -> dict[str, Any]:
    """The claims of a valid tokenbench access token; raises ``jwt.PyJWTError`` otherwise."""
    algorithm = ALGORITHM[format_name]
    header = jwt.get_unverified_header(token)
    if header.get("typ") != ACCESS_TYP:  # kind binding: a refresh token (rt+jwt) is not an access token
        raise jwt.InvalidTokenError(f"typ must be {ACCESS_TYP}, got {header.get('typ')!r}")
    if format_name == "jwt-hs256":
        if keys_dir is None:
            raise ValueError("jwt-hs256 needs keys_dir, the directory of the shared key files")
        key = secret_key(keys_dir, str(header.get("kid")))
    else:
        if issuer_url is None:
            raise ValueError(f"{format_name} needs issuer_url, whose /.well-known/jwks.json it reads")
        client = jwt.PyJWKClient(f"{issuer_url}/.well-known/jwks.json", cache_keys=True)
        key = client.get_signing_key_from_jwt(token)  # by kid; a kid the set lacks refetches it once
    required = ["exp", "iat", "nbf", "sub", "jti"]
    required += ["iss"] if issuer else []
    required += ["aud"] if audience else []
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=[algorithm],
        issuer=issuer,
        audience=audience,
        leeway=LEEWAY,
        options={"require": required},
    )
    return claims


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
    except jwt.PyJWTError as exc:
        print(f"refused: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(claims, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
