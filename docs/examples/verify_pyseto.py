"""Verify a tokenbench access token in another Python service with pyseto (paseto-v4-public, paseto-v4-local).

pyseto authenticates the token and checks ``exp``/``nbf`` when they are present and ``aud`` when asked;
everything else is the caller's (docs/verify-elsewhere.md). So this example:

* passes the implicit assertion ``tokenbench.access``: tokenbench binds the kind (access or refresh) into
  the signature or MAC, never into the token, and without it no tokenbench token verifies;
* picks the key by the footer ``{"kid": "k4.pid..."}`` / ``{"kid": "k4.lid..."}``: from the issuer's
  ``/.well-known/paserk.json`` (v4.public) or the shared key files (v4.local); pyseto would otherwise try
  every key it is given;
* requires ``exp``, ``iat``, ``nbf``, ``sub``, ``jti`` (pyseto skips a missing ``exp``) and checks ``iss``
  itself (pyseto has no issuer check), with 30 seconds of leeway.

Prints the claims as JSON and exits 0, or prints ``refused: <reason>`` and exits 1. ``URL`` is the
service's address (http://127.0.0.1:8000 after ``make run``); add ``--issuer`` and ``--audience`` with the
values of its ``TOKENBENCH_ISSUER`` and ``TOKENBENCH_AUDIENCE``::

    .venv/bin/python docs/examples/verify_pyseto.py --format paseto-v4-public --issuer-url "$URL" "$TOKEN"
    .venv/bin/python docs/examples/verify_pyseto.py --format paseto-v4-local --keys-dir "$KEYS" "$TOKEN"

with ``KEYS=var/keys/paseto-v4-local``, the shared key directory.

``tests/service/test_docs_verify_elsewhere.py`` runs it against tokens of a running ``tokenbench serve``.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pyseto
from pyseto import Key, Paseto

IMPLICIT_ASSERTION = b"tokenbench.access"  # a refresh token is bound to b"tokenbench.refresh"
HEADER = {"paseto-v4-public": "v4.public.", "paseto-v4-local": "v4.local."}
LEEWAY = 30
REQUIRED = ("exp", "iat", "nbf", "sub", "jti")


class Refused(Exception):
    """The token is not a valid tokenbench access token."""


def footer_kid(token: str, header: str) -> str:
    """The key id of the footer, unauthenticated until the token verifies (it is covered by the proof)."""
    if not token.startswith(header) or token.count(".") != 3:
        raise Refused(f"not a {header.rstrip('.')} token with a footer")
    segment = token.rsplit(".", 1)[1]
    footer = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    if not isinstance(footer, dict) or set(footer) != {"kid"}:
        raise Refused('footer must be {"kid": "..."}')
    return str(footer["kid"])


def paserk_keys(*, format_name: str, issuer_url: str | None, keys_dir: Path | None) -> dict[str, str]:
    """PASERK key text by key id: the published ``paserk.json`` or the shared ``k4.local`` key files."""
    if format_name == "paseto-v4-public":
        if issuer_url is None:
            raise ValueError("paseto-v4-public needs issuer_url, whose /.well-known/paserk.json it reads")
        url = f"{issuer_url}/.well-known/paserk.json"
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
            document = json.load(response)
        return {entry["kid"]: entry["paserk"] for entry in document["keys"]}  # {"kid": "k4.pid...", ...}
    if keys_dir is None:
        raise ValueError("paseto-v4-local needs keys_dir, the directory of the shared key files")
    texts = [p.read_text(encoding="ascii").strip() for p in sorted(keys_dir.glob("*.paserk"))]
    return {Key.from_paserk(text).to_paserk_id(): text for text in texts}  # k4.lid.<id> of each key


def verify_access_token(
    token: str,
    *,
    format_name: str,
    issuer_url: str | None = None,
    keys_dir: Path | None = None,
    issuer: str | None = None,
    audience: str | None = None,
) -> dict[str, Any]:
    """The claims of a valid tokenbench access token; raises ``Refused`` otherwise."""
    kid = footer_kid(token, HEADER[format_name])
    paserk = paserk_keys(format_name=format_name, issuer_url=issuer_url, keys_dir=keys_dir).get(kid)
    if paserk is None:
        raise Refused(f"no key with kid {kid}")
    paseto = Paseto.new(leeway=LEEWAY)
    try:
        decoded = paseto.decode(
            Key.from_paserk(paserk),
            token,
            implicit_assertion=IMPLICIT_ASSERTION,
            deserializer=json,
            aud=audience or "",
        )
    except (pyseto.PysetoError, ValueError) as exc:
        raise Refused(f"{type(exc).__name__}: {exc}") from exc
    claims = decoded.payload
    if not isinstance(claims, dict):
        raise Refused("the payload is not a JSON object")
    missing = [name for name in REQUIRED if name not in claims]
    if missing:
        raise Refused(f"missing claims {missing}")
    if issuer and claims.get("iss") != issuer:
        raise Refused("iss verification failed")
    return claims


def main(argv: list[str] | None = None) -> int:
    """Verify the token given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--format", required=True, choices=sorted(HEADER))
    parser.add_argument("--issuer-url", help="the issuer's base URL (paseto-v4-public)")
    parser.add_argument("--keys-dir", type=Path, help="the shared key directory (paseto-v4-local)")
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
    except (Refused, ValueError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(claims, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
