// Verify a tokenbench access token from Node.js: `jose` for jwt-hs256, jwt-es256 and jwt-eddsa, `paseto`
// (both by panva, pinned in package.json) for paseto-v4-public. paseto-v4-local is not covered: Web
// Cryptography has neither XChaCha20 nor BLAKE2b, so the `paseto` package ships no v4.local decrypt
// (docs/verify-elsewhere.md says what to do instead).
//
//   npm ci --prefix docs/examples/js
//   node docs/examples/js/verify.mjs --format jwt-es256 --issuer-url http://127.0.0.1:8000 \
//       --issuer https://auth.example --audience https://api.example "$TOKEN"
//   node docs/examples/js/verify.mjs --format jwt-hs256 --keys-dir var/keys/jwt-hs256 "$TOKEN"
//
// Prints the claims as JSON and exits 0, or prints `refused: <reason>` and exits 1.
// tests/service/test_docs_verify_elsewhere.py runs it against tokens of a running `tokenbench serve`.

import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

import { createRemoteJWKSet, importJWK, jwtVerify } from 'jose'
import { InspectFooter, PublicProtocol } from 'paseto'
import { ImportPublicKeyFactory, VerifyFactory } from 'paseto/v4/public'

const ALGORITHM = { 'jwt-hs256': 'HS256', 'jwt-es256': 'ES256', 'jwt-eddsa': 'EdDSA' }
const ACCESS_TYP = 'at+jwt' // a refresh token says rt+jwt
const IMPLICIT_ASSERTION = new TextEncoder().encode('tokenbench.access') // refresh: tokenbench.refresh
const LEEWAY = 30 // seconds, the service's default TOKENBENCH_LEEWAY
const REQUIRED = ['exp', 'iat', 'nbf', 'sub', 'jti']

function sharedSecret(keysDir) {
  const secrets = readdirSync(keysDir)
    .filter((name) => name.endsWith('.jwk'))
    .map((name) => JSON.parse(readFileSync(join(keysDir, name), 'utf8')))
  return async ({ kid }) => {
    const jwk = secrets.find((secret) => secret.kid === kid)
    if (jwk === undefined) throw new Error(`no key file with kid ${kid}`)
    return importJWK(jwk, 'HS256')
  }
}

async function verifyJwt(token, { format, issuerUrl, keysDir, issuer, audience }) {
  const keys =
    format === 'jwt-hs256'
      ? sharedSecret(keysDir) // jose's key sets hold public keys only: a resolver picks the secret by kid
      : createRemoteJWKSet(new URL(`${issuerUrl}/.well-known/jwks.json`)) // by kid, cached, refetched
  const { payload } = await jwtVerify(token, keys, {
    algorithms: [ALGORITHM[format]], // the format's one algorithm, never the token's choice
    typ: ACCESS_TYP,
    issuer,
    audience,
    clockTolerance: LEEWAY,
    requiredClaims: REQUIRED,
  })
  return payload
}

async function verifyPasetoPublic(token, { issuerUrl, issuer, audience }) {
  // The footer is {"kid":"k4.pid..."}: read it (unauthenticated) to choose the key, which Verify then
  // authenticates with the token.
  const { kid } = JSON.parse(new TextDecoder().decode(InspectFooter(token)))
  const response = await fetch(`${issuerUrl}/.well-known/paserk.json`)
  if (!response.ok) throw new Error(`paserk.json: HTTP ${response.status}`)
  const entry = (await response.json()).keys.find((key) => key.kid === kid)
  if (entry === undefined) throw new Error(`no published key with kid ${kid}`)
  const v4 = new PublicProtocol(ImportPublicKeyFactory, VerifyFactory)
  const key = await v4.ImportPublicKey(entry.paserk)
  const { claims } = await v4.Verify(key, token, {
    implicitAssertion: IMPLICIT_ASSERTION,
    issuer,
    audience,
    clockTolerance: LEEWAY,
    requiredClaims: REQUIRED,
  })
  return claims
}

const { values, positionals } = parseArgs({
  options: {
    format: { type: 'string' },
    'issuer-url': { type: 'string' },
    'keys-dir': { type: 'string' },
    issuer: { type: 'string' },
    audience: { type: 'string' },
  },
  allowPositionals: true,
})
const options = {
  format: values.format,
  issuerUrl: values['issuer-url'],
  keysDir: values['keys-dir'],
  issuer: values.issuer,
  audience: values.audience,
}
const [token] = positionals
if (!(options.format in ALGORITHM) && options.format !== 'paseto-v4-public') {
  console.error(`usage: verify.mjs --format ${[...Object.keys(ALGORITHM), 'paseto-v4-public'].join('|')} ... TOKEN`)
  process.exit(2)
}
try {
  const claims =
    options.format === 'paseto-v4-public'
      ? await verifyPasetoPublic(token, options)
      : await verifyJwt(token, options)
  console.log(JSON.stringify(claims))
} catch (error) {
  console.error(`refused: ${error.code ?? error.name}: ${error.message}`)
  process.exit(1)
}
