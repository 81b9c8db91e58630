// Content negotiation: what the client sent (JSON, YAML, patches) and what it accepts (JSON, YAML,
// a meta.k8s.io Table, PartialObjectMetadata), as upstream's negotiation package.
import YAML, { Composer, Lexer, LineCounter, Parser, isMap, isScalar, isSeq, type CST, type Document, type ParsedNode } from 'yaml';
import { StatusError, badRequest, notAcceptable } from '@kubelab/api';
import { PROTOBUF_MEDIA_TYPE, decodeProtobufObject } from './protobuf/index.js';
import { cachedJSON, encodeListJSONBody, type ListJSONStream } from '../storage/cached-object.js';

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

/**
 * A response body: encodeBody, except that a list's JSON is written from its items' cached encodings
 * (the watch cache's objects are encoded once, upstream's cachingObject), streamed in batches when it is
 * larger than one (its byteLength is the content-length), and a cached object's JSON is its cached bytes.
 */
export function encodeResponse(format: OutputFormat, value: unknown): string | Buffer | ListJSONStream {
  if (format.mediaType === 'application/json' && value !== null && typeof value === 'object' && Array.isArray((value as { items?: unknown }).items)) {
    return encodeListJSONBody(value);
  }
  // A frozen object is the watch cache's own (a GET at the revision it holds): its bytes are encoded once.
  if (format.mediaType === 'application/json' && value !== null && typeof value === 'object' && Object.isFrozen(value)) return cachedJSON(value);
  return encodeBody(format, value);
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

/** What create, update, DeleteOptions and the other object bodies may be sent as (upstream's serializers; CBOR is off in v1.32). */
export const BODY_MEDIA_TYPES = ['application/json', 'application/yaml', PROTOBUF_MEDIA_TYPE] as const;

/** upstream's errUnsupportedMediaType: 415 naming what is accepted. */
export function unsupportedMediaTypeOf(accepted: readonly string[]): StatusError {
  return new StatusError({
    code: 415,
    reason: 'UnsupportedMediaType',
    message: `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  });
}

/** The 415 for a body whose Content-Type the verb does not take (patches take the patch types). */
export function unsupportedMediaTypeFor(verb: string | undefined): StatusError {
  return unsupportedMediaTypeOf(verb === 'patch' ? Object.keys(PATCH_MEDIA_TYPES) : BODY_MEDIA_TYPES);
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * A Content-Type's media type as Go's mime.ParseMediaType reads it: lower case, parameters checked and
 * dropped; undefined when malformed (a list such as "application/json, text/plain", a stray ';').
 */
export function parseMediaType(contentType: string): string | undefined {
  const [base, ...params] = contentType.split(';');
  const type = base!.trim().toLowerCase();
  const slash = type.indexOf('/');
  if (!TOKEN.test(slash < 0 ? type : type.slice(0, slash)) || (slash >= 0 && !TOKEN.test(type.slice(slash + 1)))) return undefined;
  const rest = params.join(';');
  // parameter = token "=" ( token / quoted-string ), separated by ';' (an empty trailing one is allowed).
  if (rest.trim() && !/^(\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*=\s*(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+|"(?:[^"\\]|\\.)*")\s*(;|$))*\s*$/.test(rest)) return undefined;
  return type;
}

/**
 * How deep a request body may nest (objects and arrays). Upstream's decoders stop at 10000 (encoding/json's
 * scanner, go-yaml's flow and indentation levels). Here the decoded object is walked recursively
 * afterwards (defaulting, field validation, managedFields, structured clones, JSON and YAML encoding of
 * responses and watch events), and the yaml package composes and stringifies recursively too: measured on
 * Node 20's default stack, YAML composing gives out near 870 levels, YAML.stringify between 700 and 1000,
 * JSON.stringify near 4100. A stack overflow there is a 500, or a crash when V8 happens to compile a
 * regular expression at the stack's edge. So the limit is 500, with room to spare for the frames under
 * a request handler and the wrappers (lists, watch events, Tables) that responses add.
 */
export const MAX_NESTING_DEPTH = 500;

/** Nesting depth of JSON text, counted on the raw characters (brackets inside strings do not count); stops early past `max`. */
export function jsonNestingExceeds(text: string, max = MAX_NESTING_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

const COLLECTION_TOKENS = new Set(['block-map', 'block-seq', 'flow-collection']);

/**
 * Lexes and parses YAML into CST tokens, stopping early (undefined) past `max` levels of nesting. The yaml
 * package's CST parser keeps its own stack of open collections instead of recursing (its composer, which
 * builds documents from the tokens, recurses).
 */
function yamlTokens(text: string, lineCounter: LineCounter, max: number): CST.Token[] | undefined {
  const parser = new Parser(lineCounter.addNewLine);
  lineCounter.addNewLine(0); // as Parser.parse() does before the first line
  const tokens: CST.Token[] = [];
  for (const lexeme of new Lexer().lex(text)) {
    for (const token of parser.next(lexeme)) tokens.push(token);
    if (parser.stack.length > max && parser.stack.filter((t) => COLLECTION_TOKENS.has(t.type)).length > max) return undefined;
  }
  for (const token of parser.end()) tokens.push(token);
  return tokens;
}

/** Whether YAML text nests more than `max` levels deep. */
export function yamlNestingExceeds(text: string, max = MAX_NESTING_DEPTH): boolean {
  return yamlTokens(text, new LineCounter(), max) === undefined;
}

/**
 * The first key of a map that repeats an earlier one, without the yaml package's check, which compares
 * every key with every other (seconds of CPU for a map of some ten thousand keys).
 */
function duplicateKey(doc: Document.Parsed): ParsedNode | undefined {
  const stack: unknown[] = [doc.contents];
  while (stack.length) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        if (isScalar(pair.key)) {
          if (seen.has(pair.key.value)) return pair.key as ParsedNode;
          seen.add(pair.key.value);
        }
        stack.push(pair.key, pair.value);
      }
    } else if (isSeq(node)) {
      stack.push(...node.items);
    }
  }
  return undefined;
}

/** YAML text to a value (JSON, which most clients send even as YAML, through the faster JSON parser). */
function decodeYaml(text: string): unknown {
  const failed = (message: string) => badRequest(`error converting YAML to JSON: ${message}`);
  // go-yaml words it "exceeded max depth of 10000".
  const tooDeep = () => failed(`yaml: exceeded max depth of ${MAX_NESTING_DEPTH}`);
  if (/^\s*[{[]/.test(text)) {
    let value: unknown;
    let json = true;
    try {
      value = JSON.parse(text); // V8's JSON.parse does not recurse: any depth is safe to parse, then measure
    } catch {
      json = false; // YAML flow style, such as {a: 1}
    }
    if (json) {
      if (valueNestingExceeds(value)) throw tooDeep();
      return value;
    }
  }
  const lineCounter = new LineCounter();
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return ` at line ${line}, column ${col}:`;
  };
  // The composer recurses: it must not be handed a document deeper than the limit.
  const tokens = yamlTokens(text, lineCounter, MAX_NESTING_DEPTH);
  if (!tokens) throw tooDeep();
  const docs = [...new Composer({ uniqueKeys: false }).compose(tokens)];
  if (docs.length !== 1) throw failed('expected a single YAML document');
  const doc = docs[0]!;
  if (doc.errors.length) throw failed(doc.errors[0]!.message.split('\n')[0]! + at(doc.errors[0]!.pos[0]));
  const dup = duplicateKey(doc);
  if (dup) throw failed(`Map keys must be unique${at(dup.range[0])}`);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw failed((err as Error).message.split('\n')[0]!);
  }
  // Aliases can nest a document deeper than its text.
  if (valueNestingExceeds(value)) throw tooDeep();
  return value;
}

/**
 * Nesting depth of a decoded value, without recursion. Shared subtrees (YAML aliases) are measured once, so
 * a document that nests aliases of aliases is measured by what it expands to, not by its text.
 */
export function valueNestingExceeds(value: unknown, max = MAX_NESTING_DEPTH): boolean {
  const isNode = (v: unknown): v is object => v !== null && typeof v === 'object';
  const children = (node: object): object[] => (Array.isArray(node) ? node : Object.values(node)).filter(isNode);
  if (!isNode(value)) return false;
  // Post-order: a node's height once all its children's are known. `depth` only cuts cycles short.
  const height = new Map<object, number>();
  const stack: { node: object; depth: number; expanded: boolean }[] = [{ node: value, depth: 1, expanded: false }];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    if (height.has(top.node)) {
      stack.pop();
    } else if (!top.expanded) {
      if (top.depth > max) return true;
      top.expanded = true;
      for (const c of children(top.node)) if (!height.has(c)) stack.push({ node: c, depth: top.depth + 1, expanded: false });
    } else {
      stack.pop();
      let h = 1;
      for (const c of children(top.node)) h = Math.max(h, 1 + height.get(c)!);
      if (h > max) return true;
      height.set(top.node, h);
    }
  }
  return false;
}

/**
 * Decodes a JSON, YAML or protobuf request body into a value. A Content-Type the apiserver does not decode
 * is a 415 (none at all means JSON, as upstream); malformed or too deeply nested input a 400 with the
 * parser's reason. The patch handlers pass the media type their patch type is decoded as.
 */
export function decodeBody(raw: Buffer | undefined, contentType: string | undefined): unknown {
  const type = contentType?.trim() ? parseMediaType(contentType) : 'application/json';
  const yaml = type === 'application/yaml' || type === 'application/apply-patch+yaml';
  if (type !== 'application/json' && type !== PROTOBUF_MEDIA_TYPE && !yaml) throw unsupportedMediaTypeOf(BODY_MEDIA_TYPES);
  // kubectl's typed clients (create deployment|namespace|secret ..., drain) always send protobuf.
  if (type === PROTOBUF_MEDIA_TYPE) {
    if (!raw?.length) throw badRequest("Object 'Kind' is missing in ''");
    let object: unknown;
    try {
      object = decodeProtobufObject(raw).object;
    } catch (err) {
      throw badRequest((err as Error).message);
    }
    if (valueNestingExceeds(object)) throw badRequest(`object nested more than ${MAX_NESTING_DEPTH} levels deep`);
    return object;
  }
  const text = raw ? raw.toString('utf8') : '';
  if (!text.trim()) throw badRequest('Object \'Kind\' is missing in \'\'');
  if (yaml) return decodeYaml(text);
  // encoding/json's scanner words it "invalid character '[' exceeded max depth".
  if (jsonNestingExceeds(text)) throw badRequest(`couldn't get version/kind; json parse error: exceeded max depth of ${MAX_NESTING_DEPTH}`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
}

export function isStatusError(e: unknown): e is StatusError {
  return e instanceof StatusError;
}
