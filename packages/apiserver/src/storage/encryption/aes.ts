// AES providers for encryption at rest (upstream's k8s.io/apiserver/pkg/storage/value/encrypt/aes):
// aescbc stores a random 16-byte IV then the PKCS#7-padded CBC ciphertext; aesgcm stores a random
// 12-byte nonce then the GCM ciphertext and its 16-byte tag, authenticated with the etcd key.
import { createCipheriv, createDecipheriv, randomBytes, type CipherGCMTypes } from 'node:crypto';
import type { ValueTransformer } from './transformer.js';

const BLOCK_SIZE = 16;
const GCM_NONCE_SIZE = 12;
const GCM_TAG_SIZE = 16;
const SHORT = 'the stored data was shorter than the required size';

function aesAlgorithm(mode: 'cbc' | 'gcm', key: Buffer): string {
  if (![16, 24, 32].includes(key.length)) throw new Error(`invalid key size ${key.length}: AES keys are 16, 24 or 32 bytes`);
  return `aes-${key.length * 8}-${mode}`;
}

export function cbcTransformer(key: Buffer): ValueTransformer {
  const algorithm = aesAlgorithm('cbc', key);
  return {
    transformToStorage(data) {
      const iv = randomBytes(BLOCK_SIZE);
      // Node's PKCS#7 padding is the same as upstream's: always 1..16 bytes of the padding length.
      const cipher = createCipheriv(algorithm, key, iv);
      return Buffer.concat([iv, cipher.update(data), cipher.final()]);
    },
    transformFromStorage(data) {
      if (data.length < BLOCK_SIZE) throw new Error(SHORT);
      const body = data.subarray(BLOCK_SIZE);
      if (body.length % BLOCK_SIZE !== 0) throw new Error('the stored data is not a multiple of the block size');
      const decipher = createDecipheriv(algorithm, key, data.subarray(0, BLOCK_SIZE));
      decipher.setAutoPadding(false);
      const padded = Buffer.concat([decipher.update(body), decipher.final()]);
      const size = padded.length ? padded[padded.length - 1]! : 0;
      if (size === 0 || size > padded.length) throw new Error('invalid PKCS7 data (empty or not padded)');
      for (let i = padded.length - size; i < padded.length; i++) {
        if (padded[i] !== size) throw new Error('invalid padding on input');
      }
      return { data: padded.subarray(0, padded.length - size), stale: false };
    },
  };
}

export function gcmTransformer(key: Buffer): ValueTransformer {
  const algorithm = aesAlgorithm('gcm', key) as CipherGCMTypes;
  return {
    transformToStorage(data, authenticatedData) {
      const nonce = randomBytes(GCM_NONCE_SIZE);
      const cipher = createCipheriv(algorithm, key, nonce, { authTagLength: GCM_TAG_SIZE });
      cipher.setAAD(authenticatedData);
      return Buffer.concat([nonce, cipher.update(data), cipher.final(), cipher.getAuthTag()]);
    },
    transformFromStorage(data, authenticatedData) {
      if (data.length < GCM_NONCE_SIZE + GCM_TAG_SIZE) throw new Error(SHORT);
      const decipher = createDecipheriv(algorithm, key, data.subarray(0, GCM_NONCE_SIZE), { authTagLength: GCM_TAG_SIZE });
      decipher.setAAD(authenticatedData);
      decipher.setAuthTag(data.subarray(data.length - GCM_TAG_SIZE));
      try {
        return { data: Buffer.concat([decipher.update(data.subarray(GCM_NONCE_SIZE, data.length - GCM_TAG_SIZE)), decipher.final()]), stale: false };
      } catch {
        // Go's crypto/cipher says the same for a wrong key, a tampered value or another key's value.
        throw new Error('cipher: message authentication failed');
      }
    },
  };
}
