// Compact JWS (RS256) as service account tokens use it: base64url(header).base64url(payload).signature.
// Signing and verification are node:crypto's; this module only frames the bytes.
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export interface JwtHeader {
  alg: string;
  kid?: string;
  typ?: string;
}

/** Registered claims plus whatever private claims the issuer adds. */
export interface JwtClaims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  [claim: string]: unknown;
}

export interface DecodedJwt {
  header: JwtHeader;
  claims: JwtClaims;
  /** The bytes that were signed (`header.payload`). */
  signingInput: string;
  signature: Buffer;
}

// Upstream's error text for a signature no configured key verifies (go-jose's ErrCryptoFailure).
export const CRYPTO_FAILURE = 'go-jose/go-jose: error in cryptographic primitive';

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/**
 * The key ID upstream puts in the header: the unpadded base64url SHA-256 of the public key's PKIX DER
 * encoding, so verifiers can pick the key without trying all of them.
 */
export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('base64url');
}

export function signJwt(claims: JwtClaims, privateKey: KeyObject): string {
  const header: JwtHeader = { alg: 'RS256', kid: keyIdOf(privateKey) };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(sign('sha256', Buffer.from(input), privateKey))}`;
}

/** Parses a compact JWS without checking its signature; undefined when it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p)) || !parts[0] || !parts[1]) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as JwtHeader;
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as JwtClaims;
    if (!header || typeof header !== 'object' || typeof header.alg !== 'string') return undefined;
    if (!claims || typeof claims !== 'object' || Array.isArray(claims)) return undefined;
    return { header, claims, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2]!, 'base64url') };
  } catch {
    return undefined;
  }
}

/** True when one of the public keys verifies the token's RS256 signature. */
export function verifyJwtSignature(jwt: DecodedJwt, keys: KeyObject[]): boolean {
  if (jwt.header.alg !== 'RS256') return false;
  return keys.some((k) => {
    try {
      return verify('sha256', Buffer.from(jwt.signingInput), k, jwt.signature);
    } catch {
      return false;
    }
  });
}

/** Public keys from PEM files' contents: public keys, certificates and private keys (their public half). */
export function publicKeysFromPem(pem: string): KeyObject[] {
  const blocks = pem.match(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g) ?? [];
  const keys: KeyObject[] = [];
  for (const block of blocks) {
    if (/PRIVATE KEY/.test(block)) keys.push(createPublicKey(createPrivateKey(block)));
    else keys.push(createPublicKey(block));
  }
  return keys;
}
