// Content negotiation: what the client sent (JSON, YAML, patches) and what it accepts (JSON, YAML,
// a meta.k8s.io Table, PartialObjectMetadata), as upstream's negotiation package.
import YAML from 'yaml';
import { StatusError, badRequest, notAcceptable } from '@kubelab/api';
import { PROTOBUF_MEDIA_TYPE, decodeProtobufObject } from './protobuf/index.js';

export type OutputKind = 'object' | 'table' | 'partial';

export interface OutputFormat {
  mediaType: 'application/json' | 'application/yaml';
  as: OutputKind;
}

interface MediaRange {
  type: string;
  params: Record<string, string>;
}

function parseAccept(accept: string): MediaRange[] {
  return accept
    .split(',')
    .map((part) => {
      const [type, ...params] = part.split(';').map((s) => s.trim());
      const p: Record<string, string> = {};
      for (const kv of params) {
        const i = kv.indexOf('=');
        if (i > 0) p[kv.slice(0, i).trim()] = kv.slice(i + 1).trim();
      }
      return { type: (type ?? '').toLowerCase(), params: p };
    })
    .filter((m) => m.type);
}

/**
 * Picks the first acceptable representation in the client's order. `as=Table;g=meta.k8s.io` (v1 or
 * v1beta1) gives a Table when the verb supports it; protobuf is not served, so a client that accepts
 * nothing else gets 406.
 */
export function negotiateOutput(accept: string | undefined, allowTransform: boolean): OutputFormat {
  if (!accept) return { mediaType: 'application/json', as: 'object' };
  for (const m of parseAccept(accept)) {
    const json = m.type === 'application/json' || m.type === '*/*' || m.type === 'application/*';
    const yaml = m.type === 'application/yaml';
    if (!json && !yaml) continue;
    const mediaType = yaml ? 'application/yaml' : 'application/json';
    if (m.params.as) {
      if (!allowTransform || m.params.g !== 'meta.k8s.io') continue;
      if (m.params.as === 'Table' && (m.params.v === 'v1' || m.params.v === 'v1beta1')) return { mediaType, as: 'table' };
      if ((m.params.as === 'PartialObjectMetadata' || m.params.as === 'PartialObjectMetadataList') && (m.params.v === 'v1' || m.params.v === 'v1beta1')) {
        return { mediaType, as: 'partial' };
      }
      continue;
    }
    return { mediaType, as: 'object' };
  }
  throw notAcceptable('only the following media types are accepted: application/json, application/yaml');
}

export function encodeBody(format: OutputFormat, value: unknown): string {
  return format.mediaType === 'application/yaml' ? YAML.stringify(value) : JSON.stringify(value);
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export const PATCH_MEDIA_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Decodes a JSON or YAML request body into a value; malformed input is a 400 with the parser's reason. */
export function decodeBody(raw: Buffer | undefined, contentType: string | undefined): unknown {
  const type = mediaTypeOf(contentType);
  // kubectl's typed clients (create deployment|namespace|secret ..., drain) always send protobuf.
  if (type === PROTOBUF_MEDIA_TYPE) {
    if (!raw || !raw.length) throw badRequest("Object 'Kind' is missing in ''");
    try {
      return decodeProtobufObject(raw).object;
    } catch (err) {
      throw badRequest((err as Error).message);
    }
  }
  const text = raw ? raw.toString('utf8') : '';
  if (!text.trim()) throw badRequest('Object \'Kind\' is missing in \'\'');
  if (type === 'application/yaml' || type === 'application/apply-patch+yaml') {
    try {
      const docs = YAML.parseAllDocuments(text);
      if (docs.length !== 1) throw new Error('expected a single YAML document');
      const doc = docs[0]!;
      if (doc.errors.length) throw doc.errors[0]!;
      return doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      throw badRequest(`error converting YAML to JSON: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
}

export function isStatusError(e: unknown): e is StatusError {
  return e instanceof StatusError;
}
