// Helpers shared by EtcdStorage and Cacher: resourceVersion handling, preconditions, continue tokens,
// and the Status objects carried by watch ERROR events.
import { badRequest, type KubeObject, type WatchEvent } from '@kubelab/api';
import { StorageError, type ListOptions, type Preconditions } from './interface.js';

/** Minimal logger shape (pino-compatible). */
export interface StorageLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const noopLogger: StorageLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** The annotation upstream puts on the bookmark that ends the initial events of a watch-list. */
export const INITIAL_EVENTS_END_ANNOTATION = 'k8s.io/initial-events-end';

export const LIST_EXPIRED = 'The resourceVersion for the provided list is too old.';
export const CONTINUE_EXPIRED =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.';

/**
 * Which revision a list reads and from which key, as upstream's etcd3 store decides it: a continue
 * token pins its own revision; resourceVersionMatch Exact pins the given one; NotOlderThan (and '')
 * read the latest revision but require at least the given one, except that a legacy paged list with a
 * resourceVersion and no match is pinned to it. revision 0 means "the latest".
 */
export function listRevisionOf(opts: ListOptions, prefix: string, paging: boolean): { revision: number; fromKey: string; minRevision: number; continuing: boolean } {
  const rvString = opts.resourceVersion ?? '';
  if (opts.continue) {
    if (rvString !== '' && rvString !== '0') throw badRequest('specifying resource version is not allowed when using continue');
    const decoded = decodeContinue(opts.continue, prefix);
    return { revision: Math.max(decoded.revision, 0), fromKey: decoded.fromKey, minRevision: 0, continuing: true };
  }
  const rv = parseResourceVersion(rvString);
  const match = opts.resourceVersionMatch ?? '';
  switch (match) {
    case 'Exact':
      if (rv === 0) throw badRequest('resourceVersionMatch "Exact" is forbidden for resourceVersion "0"');
      return { revision: rv, fromKey: prefix, minRevision: rv, continuing: false };
    case 'NotOlderThan':
      return { revision: 0, fromKey: prefix, minRevision: rv, continuing: false };
    case '':
      return { revision: paging && rv > 0 ? rv : 0, fromKey: prefix, minRevision: rv, continuing: false };
    default:
      throw badRequest(`unknown ResourceVersionMatch value: ${String(match)}`);
  }
}

/** The JSON stored in etcd: the object without metadata.resourceVersion. */
export function encodeForStorage(obj: KubeObject): string {
  const metadata = { ...(obj.metadata ?? {}) };
  delete metadata.resourceVersion;
  return JSON.stringify({ ...obj, metadata });
}

/** Parses a stored value and stamps the given revision as its resourceVersion. */
export function decodeFromStorage(key: string, value: Buffer | string, revision: number | string): KubeObject {
  let obj: KubeObject;
  try {
    obj = JSON.parse(typeof value === 'string' ? value : value.toString('utf8')) as KubeObject;
  } catch (err) {
    throw new StorageError('InvalidObj', key, `invalid JSON stored at ${key}: ${(err as Error).message}`);
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new StorageError('InvalidObj', key, `stored value at ${key} is not an object`);
  }
  obj.metadata = { ...(obj.metadata ?? {}), resourceVersion: String(revision) };
  return obj;
}

export function withResourceVersion(obj: KubeObject, revision: number | string): KubeObject {
  return { ...obj, metadata: { ...(obj.metadata ?? {}), resourceVersion: String(revision) } };
}

/** Throws ResourceVersionConflicts when a precondition does not hold (messages as upstream). */
export function checkPreconditions(key: string, pre: Preconditions | undefined, obj: KubeObject): void {
  if (!pre) return;
  if (pre.uid !== undefined && pre.uid !== (obj.metadata?.uid ?? '')) {
    throw new StorageError(
      'ResourceVersionConflicts',
      key,
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata?.uid ?? ''}`,
    );
  }
  if (pre.resourceVersion !== undefined && pre.resourceVersion !== (obj.metadata?.resourceVersion ?? '')) {
    throw new StorageError(
      'ResourceVersionConflicts',
      key,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata?.resourceVersion ?? ''}`,
    );
  }
}

/** Parses a resourceVersion string; '' -> 0. Throws BadRequest for anything that is not a non-negative integer. */
export function parseResourceVersion(rv: string | undefined): number {
  if (rv === undefined || rv === '') return 0;
  if (!/^\d+$/.test(rv)) throw badRequest(`invalid resource version: ${JSON.stringify(rv)}`);
  const n = Number(rv);
  if (!Number.isSafeInteger(n)) throw badRequest(`invalid resource version: ${JSON.stringify(rv)}`);
  return n;
}

/** The smallest key greater than every key starting with prefix (etcd range_end for a prefix). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // whole keyspace
}

interface ContinueToken {
  v: string;
  rv: number;
  start: string;
}

/** Encodes a continue token as upstream: base64url (no padding) of {"v","rv","start"} with start relative to prefix. */
export function encodeContinue(nextKey: string, prefix: string, revision: number): string {
  if (!nextKey.startsWith(prefix) || nextKey === prefix) {
    throw new Error(`unable to encode next field: the key and key prefix do not match ${prefix} ${nextKey}`);
  }
  const token: ContinueToken = { v: 'meta.k8s.io/v1', rv: revision, start: nextKey.slice(prefix.length) };
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

/** Decodes a continue token into the absolute start key and revision (-1: continue at the latest revision). */
export function decodeContinue(value: string, prefix: string): { fromKey: string; revision: number } {
  const invalid = (why: string) => badRequest(`invalid continue token: ${why}`);
  let token: ContinueToken;
  try {
    token = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as ContinueToken;
  } catch (err) {
    throw invalid(`continue key is not valid: ${(err as Error).message}`);
  }
  if (token === null || typeof token !== 'object') throw invalid('continue key is not valid');
  if (token.v !== 'meta.k8s.io/v1') {
    throw invalid(`continue key is not valid: server does not recognize this encoded version ${String(token.v)}`);
  }
  if (typeof token.rv !== 'number' || !Number.isSafeInteger(token.rv) || token.rv === 0) {
    throw invalid('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
  if (typeof token.start !== 'string' || token.start.length === 0) {
    throw invalid('continue key is not valid: encoded start key empty (version meta.k8s.io/v1)');
  }
  const key = token.start.startsWith('/') ? token.start : `/${token.start}`;
  // Reject anything path.Clean would change, so a token cannot range outside prefix.
  const segments = key.slice(1).split('/');
  const unclean =
    key.includes('//') ||
    segments.some((s) => s === '.' || s === '..') ||
    (key.length > 1 && key.endsWith('/'));
  if (unclean) throw invalid(`continue key is not valid: ${token.start}`);
  return { fromKey: prefix + key.slice(1), revision: token.rv };
}

function status(code: number, reason: string, message: string): KubeObject {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  };
}

/** The ERROR event for a watch whose start revision is no longer available (410 Expired). */
export function tooOldResourceVersionEvent(requested: number, oldest: number): WatchEvent {
  return { type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${requested} (${oldest})`) };
}

/** The ERROR event for a watch that failed for another reason (500 InternalError, as upstream). */
export function internalErrorEvent(message: string): WatchEvent {
  return { type: 'ERROR', object: status(500, 'InternalError', `Internal error occurred: ${message}`) };
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
