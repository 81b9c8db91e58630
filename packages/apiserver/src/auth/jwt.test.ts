import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeJwt, keyIdOf, publicKeysFromPem, signJwt, verifyJwtSignature } from './jwt.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });

describe('RS256 JWTs', () => {
  it('signs a token that decodes to the same claims and verifies with the public key', () => {
    const token = signJwt({ iss: 'https://issuer', sub: 'me', exp: 10 }, privateKey);
    const jwt = decodeJwt(token)!;
    expect(jwt.header).toEqual({ alg: 'RS256', kid: keyIdOf(publicKey) });
    expect(jwt.claims).toEqual({ iss: 'https://issuer', sub: 'me', exp: 10 });
    expect(verifyJwtSignature(jwt, [publicKey])).toBe(true);
    expect(verifyJwtSignature(jwt, [other.publicKey])).toBe(false);
    expect(verifyJwtSignature(jwt, [other.publicKey, publicKey])).toBe(true);
  });

  it('rejects a token whose payload was changed after signing', () => {
    const [h, , s] = signJwt({ sub: 'me' }, privateKey).split('.');
    const forged = decodeJwt(`${h}.${Buffer.from(JSON.stringify({ sub: 'admin' })).toString('base64url')}.${s}`)!;
    expect(verifyJwtSignature(forged, [publicKey])).toBe(false);
  });

  it('refuses alg "none" and non-JWT strings', () => {
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.`;
    expect(verifyJwtSignature(decodeJwt(none)!, [publicKey])).toBe(false);
    expect(decodeJwt('abcdef.0123456789abcdef')).toBeUndefined();
    expect(decodeJwt('not a token')).toBeUndefined();
    expect(decodeJwt('a.b.c')).toBeUndefined();
  });

  it('the key id is the base64url SHA-256 of the public key DER, same for both halves', () => {
    expect(keyIdOf(privateKey)).toBe(keyIdOf(publicKey));
    expect(keyIdOf(publicKey)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('reads public keys from public and private PEM', () => {
    const pem = publicKey.export({ type: 'spki', format: 'pem' }) + (other.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    const keys = publicKeysFromPem(pem as string);
    expect(keys.map((k) => keyIdOf(k))).toEqual([keyIdOf(publicKey), keyIdOf(other.publicKey)]);
  });
});
