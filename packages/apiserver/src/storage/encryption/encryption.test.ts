// Encryption providers and EncryptionConfiguration parsing (upstream's k8s.io/apiserver/pkg/storage/value/encrypt/*_test.go).
import { createDecipheriv, randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { parseEncryptionConfiguration, type TransformerForKey } from './config.js';

const KEY = '/registry/secrets/default/s1';
const AD = Buffer.from(KEY);
const PLAIN = Buffer.from('{"kind":"Secret","data":{"password":"c2VjcmV0"}}');

function config(resources: string[], providers: unknown[]): string {
  return JSON.stringify({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration', resources: [{ resources, providers }] });
}

function keyed(type: string, name: string, secret: Buffer) {
  return { [type]: { keys: [{ name, secret: secret.toString('base64') }] } };
}

function forKey(lookup: TransformerForKey, key = KEY) {
  const t = lookup(key);
  if (!t) throw new Error(`no transformer for ${key}`);
  return t;
}

describe('encryption providers', () => {
  it('aescbc stores the prefix, a random IV and PKCS#7-padded AES-CBC ciphertext', () => {
    const secret = randomBytes(32);
    const t = forKey(parseEncryptionConfiguration(config(['secrets'], [keyed('aescbc', 'key1', secret)])));
    const stored = t.transformToStorage(PLAIN, AD);
    const prefix = 'k8s:enc:aescbc:v1:key1:';
    expect(stored.subarray(0, prefix.length).toString()).toBe(prefix);
    expect(stored.includes(Buffer.from('c2VjcmV0'))).toBe(false);
    const body = stored.subarray(prefix.length);
    expect((body.length - 16) % 16).toBe(0);
    // Decrypts with nothing but the documented layout.
    const d = createDecipheriv('aes-256-cbc', secret, body.subarray(0, 16));
    expect(Buffer.concat([d.update(body.subarray(16)), d.final()])).toEqual(PLAIN);
    expect(t.transformFromStorage(stored, AD)).toEqual({ data: PLAIN, stale: false });
    // Two writes of the same value differ (random IV).
    expect(t.transformToStorage(PLAIN, AD).equals(stored)).toBe(false);
  });

  it('aesgcm stores a 12-byte nonce, the ciphertext and its tag, authenticated with the etcd key', () => {
    const secret = randomBytes(16);
    const t = forKey(parseEncryptionConfiguration(config(['secrets'], [keyed('aesgcm', 'k', secret)])));
    const stored = t.transformToStorage(PLAIN, AD);
    const prefix = 'k8s:enc:aesgcm:v1:k:';
    expect(stored.subarray(0, prefix.length).toString()).toBe(prefix);
    const body = stored.subarray(prefix.length);
    expect(body.length).toBe(12 + PLAIN.length + 16);
    const d = createDecipheriv('aes-128-gcm', secret, body.subarray(0, 12));
    d.setAAD(AD);
    d.setAuthTag(body.subarray(body.length - 16));
    expect(Buffer.concat([d.update(body.subarray(12, body.length - 16)), d.final()])).toEqual(PLAIN);
    expect(t.transformFromStorage(stored, AD).data).toEqual(PLAIN);
    // The value copied under another key does not decrypt.
    expect(() => t.transformFromStorage(stored, Buffer.from('/registry/secrets/default/other'))).toThrow('cipher: message authentication failed');
  });

  it('secretbox stores a 24-byte nonce then the XSalsa20-Poly1305 box', () => {
    const secret = randomBytes(32);
    const t = forKey(parseEncryptionConfiguration(config(['secrets'], [keyed('secretbox', 'sb', secret)])));
    const stored = t.transformToStorage(PLAIN, AD);
    const prefix = 'k8s:enc:secretbox:v1:sb:';
    expect(stored.subarray(0, prefix.length).toString()).toBe(prefix);
    const body = stored.subarray(prefix.length);
    const opened = nacl.secretbox.open(new Uint8Array(body.subarray(24)), new Uint8Array(body.subarray(0, 24)), new Uint8Array(secret));
    expect(Buffer.from(opened!)).toEqual(PLAIN);
    expect(t.transformFromStorage(stored, AD).data).toEqual(PLAIN);
    const tampered = Buffer.from(stored);
    tampered[tampered.length - 1]! ^= 1;
    expect(() => t.transformFromStorage(tampered, AD)).toThrow();
  });

  it('identity stores plain JSON and refuses to read encrypted data', () => {
    const t = forKey(parseEncryptionConfiguration(config(['secrets'], [{ identity: {} }])));
    expect(t.transformToStorage(PLAIN, AD)).toEqual(PLAIN);
    expect(t.transformFromStorage(PLAIN, AD)).toEqual({ data: PLAIN, stale: false });
    expect(() => t.transformFromStorage(Buffer.from('k8s:enc:aescbc:v1:key1:xxxx'), AD)).toThrow('identity transformer tried to read encrypted data');
  });

  it('the first provider writes, every provider reads, and a read by any other is stale', () => {
    const old = randomBytes(32);
    const cur = randomBytes(32);
    const before = forKey(parseEncryptionConfiguration(config(['secrets'], [keyed('aescbc', 'key1', old), { identity: {} }])));
    const oldValue = before.transformToStorage(PLAIN, AD);
    expect(before.transformFromStorage(PLAIN, AD)).toEqual({ data: PLAIN, stale: true });

    const rotated = forKey(parseEncryptionConfiguration(config(['secrets'], [
      { aescbc: { keys: [{ name: 'key2', secret: cur.toString('base64') }, { name: 'key1', secret: old.toString('base64') }] } },
      { identity: {} },
    ])));
    expect(rotated.transformFromStorage(oldValue, AD)).toEqual({ data: PLAIN, stale: true });
    expect(rotated.transformFromStorage(PLAIN, AD)).toEqual({ data: PLAIN, stale: true });
    const rewritten = rotated.transformToStorage(PLAIN, AD);
    expect(rewritten.toString('latin1').startsWith('k8s:enc:aescbc:v1:key2:')).toBe(true);
    expect(rotated.transformFromStorage(rewritten, AD)).toEqual({ data: PLAIN, stale: false });

    // Decrypting to migrate away from encryption: identity first still reads the encrypted values.
    const decrypting = forKey(parseEncryptionConfiguration(config(['secrets'], [{ identity: {} }, keyed('aescbc', 'key2', cur)])));
    expect(decrypting.transformFromStorage(rewritten, AD)).toEqual({ data: PLAIN, stale: true });
    expect(decrypting.transformToStorage(PLAIN, AD)).toEqual(PLAIN);
  });

  it('a value no provider recognises is an error', () => {
    const t = forKey(parseEncryptionConfiguration(config(['secrets'], [keyed('aesgcm', 'key1', randomBytes(32))])));
    expect(() => t.transformFromStorage(PLAIN, AD)).toThrow('no matching prefix found');
    const other = forKey(parseEncryptionConfiguration(config(['secrets'], [keyed('aesgcm', 'key2', randomBytes(32))])));
    expect(() => t.transformFromStorage(other.transformToStorage(PLAIN, AD), AD)).toThrow('no matching prefix found');
  });

  it('applies to the configured resources only (resource.group and *.* too)', () => {
    const lookup = parseEncryptionConfiguration(config(['secrets', 'deployments.apps'], [keyed('secretbox', 'k', randomBytes(32))]));
    expect(lookup('/registry/secrets/ns/a')).toBeDefined();
    expect(lookup('/registry/deployments/ns/a')).toBeDefined();
    expect(lookup('/registry/configmaps/ns/a')).toBeUndefined();
    const all = parseEncryptionConfiguration(config(['*.*'], [keyed('secretbox', 'k', randomBytes(32))]));
    expect(all('/registry/configmaps/ns/a')).toBeDefined();
  });

  it('rejects invalid configurations with every problem named', () => {
    expect(() => parseEncryptionConfiguration('kind: Foo\napiVersion: v1\n')).toThrow(/expected kind EncryptionConfiguration in apiserver.config.k8s.io\/v1/);
    const bad = config(['secrets'], [
      keyed('aescbc', 'key1', randomBytes(16)),
      { aesgcm: { keys: [{ name: 'a:b', secret: randomBytes(16).toString('base64') }] } },
      { kms: { name: 'x' } },
      { aescbc: { keys: [] } },
    ]);
    const err = (() => {
      try {
        parseEncryptionConfiguration(bad, 'enc.yaml');
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(err).toContain('error while parsing file enc.yaml');
    expect(err).toContain(
      'resources[0].providers[0].aescbc.keys[0].secret: Invalid value: "REDACTED": secret is not of the expected length, got 16, expected one of [32]',
    );
    expect(err).toContain(`resources[0].providers[1].aesgcm.keys[0].name: Invalid value: "a:b": should not contain ':'`);
    expect(err).toContain('resources[0].providers[2]: Unsupported value: "kms"');
    expect(err).toContain('resources[0].providers[3].aescbc.keys: Required value');
  });
});
