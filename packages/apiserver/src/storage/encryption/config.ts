// --encryption-provider-config (upstream's k8s.io/apiserver/pkg/server/options/encryptionconfig): an
// EncryptionConfiguration (apiserver.config.k8s.io/v1) giving resources their providers (aescbc, aesgcm,
// secretbox, identity). The result maps each etcd key to the transformer of its resource.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { cbcTransformer, gcmTransformer } from './aes.js';
import { secretboxTransformer } from './secretbox.js';
import { ENCRYPTED_PREFIX, PrefixTransformers, identityTransformer, type PrefixedTransformer, type ValueTransformer } from './transformer.js';

export const ENCRYPTION_CONFIG_API_VERSION = 'apiserver.config.k8s.io/v1';

interface KeyConfig {
  name?: unknown;
  secret?: unknown;
}

/** Picks the transformer for an etcd key (undefined: values are stored as they are). */
export type TransformerForKey = (key: string) => ValueTransformer | undefined;

interface ResourceTransformer {
  /** A resource name (`secrets`, from `secrets` or `deployments.apps`), or '*' for `*.*`. */
  resource: string;
  transformer: ValueTransformer;
}

const KEY_SIZES: Record<string, number[]> = { aescbc: [32], aesgcm: [16, 24, 32], secretbox: [32] };
const FACTORIES: Record<string, (key: Buffer) => ValueTransformer> = {
  aescbc: cbcTransformer,
  aesgcm: gcmTransformer,
  secretbox: secretboxTransformer,
};

/** Parses and validates an EncryptionConfiguration; throws one error listing every problem. */
export function parseEncryptionConfiguration(text: string, source = 'encryption provider configuration'): TransformerForKey {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    throw new Error(`error while parsing file ${source}: ${(err as Error).message}`);
  }
  const cfg = (doc ?? {}) as { apiVersion?: unknown; kind?: unknown; resources?: unknown };
  if (cfg.kind !== 'EncryptionConfiguration' || cfg.apiVersion !== ENCRYPTION_CONFIG_API_VERSION) {
    throw new Error(`error while parsing file ${source}: expected kind EncryptionConfiguration in ${ENCRYPTION_CONFIG_API_VERSION}, ` +
      `got kind ${JSON.stringify(cfg.kind ?? '')} in ${JSON.stringify(cfg.apiVersion ?? '')}`);
  }
  const problems: string[] = [];
  const out: ResourceTransformer[] = [];
  const seen = new Set<string>();
  const resources = Array.isArray(cfg.resources) ? cfg.resources : [];
  if (!resources.length) problems.push('resources: Required value: EncryptionConfiguration.Resources must contain at least one resource');
  for (const [i, entry] of resources.entries()) {
    const path = `resources[${i}]`;
    const names: unknown[] = Array.isArray(entry?.resources) ? entry.resources : [];
    const providers: unknown[] = Array.isArray(entry?.providers) ? entry.providers : [];
    if (!names.length) problems.push(`${path}.resources: Required value: resources must be specified`);
    if (!providers.length) problems.push(`${path}.providers: Required value: providers must be specified`);
    const transformers = providers.map((p, j) => providerTransformers(p, `${path}.providers[${j}]`, problems));
    if (transformers.some((t) => !t)) continue;
    const transformer = transformers.length ? new PrefixTransformers(transformers.flatMap((t) => t!)) : undefined;
    for (const [j, raw] of names.entries()) {
      const name = typeof raw === 'string' ? raw.toLowerCase() : '';
      const resource = resourceOf(name);
      if (resource === undefined) {
        problems.push(`${path}.resources[${j}]: Invalid value: ${JSON.stringify(raw)}: resource must be a resource name, ` +
          'resource.group, or *.* (group wildcards other than *.* are not supported)');
        continue;
      }
      if (seen.has(name)) {
        problems.push(`${path}.resources[${j}]: Duplicate value: ${JSON.stringify(name)}`);
        continue;
      }
      seen.add(name);
      if (transformer) out.push({ resource, transformer });
    }
  }
  if (problems.length) throw new Error(`error while parsing file ${source}: ${problems.join('; ')}`);
  return (key: string) => {
    const resource = key.split('/')[2] ?? '';
    return out.find((r) => r.resource === resource || r.resource === '*')?.transformer;
  };
}

/** Reads --encryption-provider-config. */
export function loadEncryptionConfiguration(file: string): TransformerForKey {
  return parseEncryptionConfiguration(readFileSync(file, 'utf8'), file);
}

/** `secrets` and `secrets.` (core), `deployments.apps` -> `deployments`; `*.*` -> '*'; other wildcards: undefined. */
function resourceOf(name: string): string | undefined {
  if (name === '*.*') return '*';
  const resource = name.split('.')[0] ?? '';
  if (!/^[a-z0-9-]+$/.test(resource)) return undefined;
  return resource;
}

function providerTransformers(raw: unknown, path: string, problems: string[]): PrefixedTransformer[] | undefined {
  const provider = (raw ?? {}) as Record<string, unknown>;
  const types = Object.keys(provider);
  if (types.length !== 1) {
    problems.push(`${path}: Invalid value: ${JSON.stringify(types)}: ` +
      'more than one provider specified in a single element, should split into different list elements');
    return undefined;
  }
  const type = types[0]!;
  if (type === 'identity') return [{ prefix: '', transformer: identityTransformer }];
  const factory = FACTORIES[type];
  if (!factory) {
    problems.push(`${path}: Unsupported value: ${JSON.stringify(type)}: supported values: "aescbc", "aesgcm", "identity", "secretbox"`);
    return undefined;
  }
  const keys: KeyConfig[] = Array.isArray((provider[type] as { keys?: unknown } | null)?.keys) ? (provider[type] as { keys: KeyConfig[] }).keys : [];
  if (!keys.length) {
    problems.push(`${path}.${type}.keys: Required value: keys (each key is required to be a non-empty base64 string) must be specified`);
    return undefined;
  }
  const byKey: PrefixedTransformer[] = [];
  for (const [k, key] of keys.entries()) {
    const keyPath = `${path}.${type}.keys[${k}]`;
    if (typeof key?.name !== 'string' || !key.name) {
      problems.push(`${keyPath}.name: Required value: key's name must be specified`);
      continue;
    }
    if (key.name.includes(':')) {
      problems.push(`${keyPath}.name: Invalid value: ${JSON.stringify(key.name)}: should not contain ':'`);
      continue;
    }
    const secret = typeof key.secret === 'string' ? Buffer.from(key.secret, 'base64') : Buffer.alloc(0);
    if (!secret.length || secret.toString('base64').replace(/=+$/, '') !== String(key.secret).trim().replace(/=+$/, '')) {
      problems.push(`${keyPath}.secret: Invalid value: "REDACTED": secrets must be base64 encoded`);
      continue;
    }
    const sizes = KEY_SIZES[type]!;
    if (!sizes.includes(secret.length)) {
      problems.push(`${keyPath}.secret: Invalid value: "REDACTED": ` +
        `secret is not of the expected length, got ${secret.length}, expected one of [${sizes.join(' ')}]`);
      continue;
    }
    byKey.push({ prefix: `${ENCRYPTED_PREFIX}${type}:v1:${key.name}:`, transformer: factory(secret) });
  }
  // Each key is a prefix of its own, in order: the first key of the first provider writes.
  return byKey.length === keys.length ? byKey : undefined;
}
