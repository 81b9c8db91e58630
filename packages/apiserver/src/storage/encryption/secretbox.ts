// The secretbox provider for encryption at rest (upstream's k8s.io/apiserver/pkg/storage/value/encrypt/secretbox):
// XSalsa20-Poly1305 with a 32-byte key; stored as a random 24-byte nonce then the sealed box.
import { randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import type { ValueTransformer } from './transformer.js';

export function secretboxTransformer(key: Buffer): ValueTransformer {
  if (key.length !== nacl.secretbox.keyLength) throw new Error(`invalid key size ${key.length}: secretbox keys are 32 bytes`);
  const k = new Uint8Array(key);
  const nonceSize = nacl.secretbox.nonceLength;
  return {
    transformToStorage(data) {
      const nonce = randomBytes(nonceSize);
      return Buffer.concat([nonce, nacl.secretbox(new Uint8Array(data), new Uint8Array(nonce), k)]);
    },
    transformFromStorage(data) {
      if (data.length < nonceSize) throw new Error('the stored data was shorter than the required size');
      const opened = nacl.secretbox.open(new Uint8Array(data.subarray(nonceSize)), new Uint8Array(data.subarray(0, nonceSize)), k);
      if (!opened) throw new Error('output array was not large enough for encryption');
      return { data: Buffer.from(opened), stale: false };
    },
  };
}
