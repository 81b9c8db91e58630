// Counterpart of pkg/probe/http/http.go and request.go: an HTTP GET whose 2xx answers succeed, 3xx that
// were not followed are a warning, anything else fails; upstream's User-Agent (kube-probe/<major>.<minor>)
// and Accept defaults, the probe's headers (Host included), TLS without verification, no keep-alive,
// redirects followed only on the same host (at most 10), at most 10 KiB of the body read.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Container, HTTPGetAction } from 'kubernetes-types/core/v1';
import { KUBELET_VERSION } from '../nodestatus/node-status.js';
import { dialError, joinHostPort, resolveContainerPort, type HandlerOutcome } from './probe.js';

/** Upstream's maxRespBodyLength. */
const MAX_BODY_BYTES = 10 * 1024;
const MAX_REDIRECTS = 10;
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

/** `kube-probe/1.32`: the purpose and the kubelet's major.minor version. */
export const PROBE_USER_AGENT = `kube-probe/${KUBELET_VERSION.replace(/^v/, '').split('.').slice(0, 2).join('.')}`;

/** Go's textproto.CanonicalMIMEHeaderKey: `x-custom-header` -> `X-Custom-Header`. */
export function canonicalHeaderKey(name: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(name)) return name;
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

/** Header values by canonical name. */
export type ProbeHeaders = Map<string, string[]>;

/** The probe's URL and headers (upstream NewRequestForHTTPGetAction + NewProbeRequest). */
export function httpGetRequest(action: HTTPGetAction, container: Container, podIP: string): { url: URL; headers: ProbeHeaders } {
  const scheme = (action.scheme ?? 'HTTP').toLowerCase();
  const host = action.host || podIP;
  const port = resolveContainerPort(action.port, container);
  let path = action.path ?? '';
  if (path && !path.startsWith('/')) path = `/${path}`;
  const url = new URL(`${scheme}://${joinHostPort(host, port)}${path}`);
  const headers: ProbeHeaders = new Map();
  for (const h of action.httpHeaders ?? []) {
    const key = canonicalHeaderKey(h.name);
    headers.set(key, [...(headers.get(key) ?? []), h.value]);
  }
  if (!headers.has('User-Agent')) headers.set('User-Agent', [PROBE_USER_AGENT]);
  if (!headers.has('Accept')) headers.set('Accept', ['*/*']);
  else if ((headers.get('Accept') ?? [])[0] === '') headers.delete('Accept');
  return { url, headers };
}

class ProbeTimeout extends Error {}

interface Response {
  status: number;
  body: string;
  location?: string;
}

function get(url: URL, headers: ProbeHeaders, hostHeader: string | undefined, signal: AbortSignal): Promise<Response> {
  return new Promise((resolve, reject) => {
    const outgoing: Record<string, string | string[]> = {};
    for (const [k, v] of headers) if (k !== 'Host') outgoing[k] = v.length === 1 ? v[0]! : v;
    if (hostHeader) outgoing.Host = hostHeader;
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'GET',
      headers: outgoing,
      agent: false,
      rejectUnauthorized: false,
      signal,
    });
    req.on('error', reject);
    req.once('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString(), location: res.headers.location });
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_BODY_BYTES) {
          res.removeAllListeners('end');
          res.destroy();
          done();
        }
      });
      res.once('end', done);
      res.on('error', reject);
    });
    req.end();
  });
}

/** GETs the URL as a kubelet probe does (upstream DoHTTPProbe with followNonLocalRedirects false). */
export async function doHTTPProbe(url: URL, headers: ProbeHeaders, timeoutMs: number, followNonLocalRedirects = false): Promise<HandlerOutcome> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new ProbeTimeout()), timeoutMs);
  let current = url;
  try {
    let res: Response | undefined;
    for (let redirects = 0; ; redirects++) {
      try {
        res = await get(current, headers, redirects === 0 ? headers.get('Host')?.[0] : undefined, controller.signal);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        const why = controller.signal.aborted
          ? 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)'
          : e.code
            ? dialError(e, joinHostPort(current.hostname.replace(/^\[|\]$/g, ''), Number(current.port || (current.protocol === 'https:' ? 443 : 80))))
            : e.message;
        return { result: 'Failure', output: `Get "${current.href}": ${why}` };
      }
      if (!REDIRECT_CODES.has(res.status) || !res.location) break;
      const next = new URL(res.location, current);
      if (!followNonLocalRedirects && next.hostname !== url.hostname) break;
      if (redirects + 1 >= MAX_REDIRECTS) return { result: 'Failure', output: `Get "${next.href}": stopped after ${MAX_REDIRECTS} redirects` };
      current = next;
    }
    if (res.status >= 200 && res.status < 400) {
      if (res.status >= 300) return { result: 'Warning', output: `Probe terminated redirects, Response body: ${res.body}` };
      return { result: 'Success', output: res.body };
    }
    // As upstream: the failure message never carries the response body.
    return { result: 'Failure', output: `HTTP probe failed with statuscode: ${res.status}` };
  } finally {
    clearTimeout(timer);
  }
}
