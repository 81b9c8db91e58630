// Value transformers applied to what the apiserver stores (upstream's k8s.io/apiserver/pkg/storage/value
// Transformer and PrefixTransformers): each provider owns a prefix such as `k8s:enc:aescbc:v1:key1:`, the
// first one writes, every one reads, and a read by any but the first is reported stale so an update that
// changes nothing still rewrites the value with the current provider.

/** The result of a read: the plaintext, and whether it should be rewritten with the current write provider. */
export interface TransformedValue {
  data: Buffer;
  stale: boolean;
}

/**
 * Encrypts and decrypts stored values. `authenticatedData` is the full etcd key, so a value copied to
 * another key does not decrypt there (used by aesgcm; aescbc and secretbox ignore it, as upstream).
 */
export interface ValueTransformer {
  transformFromStorage(data: Buffer, authenticatedData: Buffer): TransformedValue;
  transformToStorage(data: Buffer, authenticatedData: Buffer): Buffer;
}

/** The prefix every encrypting provider's values start with. */
export const ENCRYPTED_PREFIX = 'k8s:enc:';

/** Stores values as they are (upstream's identity provider); refuses to hand out encrypted bytes as plaintext. */
export const identityTransformer: ValueTransformer = {
  transformFromStorage(data) {
    if (data.subarray(0, ENCRYPTED_PREFIX.length).toString('latin1') === ENCRYPTED_PREFIX) {
      throw new Error('identity transformer tried to read encrypted data');
    }
    return { data, stale: false };
  },
  transformToStorage: (data) => data,
};

/** A transformer and the prefix its values carry ('' for identity). */
export interface PrefixedTransformer {
  prefix: string;
  transformer: ValueTransformer;
}

/** Upstream's error when no provider recognises a stored value. */
export const NO_MATCHING_PREFIX = 'no matching prefix found';

/** The providers of one resource, in configuration order: the first writes, each reads the values it recognises. */
export class PrefixTransformers implements ValueTransformer {
  private readonly prefixes: Array<PrefixedTransformer & { bytes: Buffer }>;

  constructor(transformers: PrefixedTransformer[]) {
    if (!transformers.length) throw new Error('at least one provider is required');
    this.prefixes = transformers.map((t) => ({ ...t, bytes: Buffer.from(t.prefix) }));
  }

  transformFromStorage(data: Buffer, authenticatedData: Buffer): TransformedValue {
    const errors: string[] = [];
    for (const [i, t] of this.prefixes.entries()) {
      if (!data.subarray(0, t.bytes.length).equals(t.bytes)) continue;
      try {
        const out = t.transformer.transformFromStorage(data.subarray(t.bytes.length), authenticatedData);
        return { data: out.data, stale: out.stale || i !== 0 };
      } catch (err) {
        // identity (no prefix) may sit in front of encrypting providers while migrating away from
        // encryption: its refusal of encrypted data lets the next provider try.
        if (t.bytes.length === 0) {
          errors.push((err as Error).message);
          continue;
        }
        throw err;
      }
    }
    throw new Error(errors.length ? errors.join(', ') : NO_MATCHING_PREFIX);
  }

  transformToStorage(data: Buffer, authenticatedData: Buffer): Buffer {
    const first = this.prefixes[0]!;
    return Buffer.concat([first.bytes, first.transformer.transformToStorage(data, authenticatedData)]);
  }
}
