// Counterpart of the pull side of the OCI distribution API (distribution/distribution's registry, read
// only): serves the offline images of hack/images/build.sh so that CRI PullImage works with no internet.
// The nodes' containerd use it as the host of every registry (hosts.toml written by hack/lib/node.sh), so
// `docker.io/library/busybox:latest` is asked for as GET /v2/library/busybox/manifests/latest?ns=docker.io.
//   node --import tsx hack/images/registry.ts [--listen=ADDR:PORT] [--dir=.kubelab/images]
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';

const args = new Map(process.argv.slice(2).map((a) => [a.replace(/=.*/, ''), a.includes('=') ? a.slice(a.indexOf('=') + 1) : '']));
const listen = args.get('--listen') || '127.0.0.1:5100';
const dir = resolve(args.get('--dir') || '.kubelab/images');
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** reference ("docker.io/library/busybox:latest") -> manifest digest, from images.txt (re-read when it changes). */
let refs = new Map<string, string>();
let refsStamp = '';
function references(): Map<string, string> {
  const file = join(dir, 'images.txt');
  const stamp = String(statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? '');
  if (stamp !== refsStamp) {
    refs = new Map();
    for (const line of stamp ? readFileSync(file, 'utf8').split('\n') : []) {
      const [ref, , digest] = line.split(' ');
      if (ref && digest) refs.set(ref, digest);
    }
    refsStamp = stamp;
  }
  return refs;
}

function blobPath(digest: string): string | undefined {
  const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!m) return undefined;
  const path = join(dir, 'blobs', 'sha256', m[1]);
  return statSync(path, { throwIfNoEntry: false })?.isFile() ? path : undefined;
}

function fail(res: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ errors: [{ code, message }] });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendBlob(req: IncomingMessage, res: ServerResponse, digest: string, path: string, contentType: string): void {
  const size = statSync(path).size;
  res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': size, 'Docker-Content-Digest': digest });
  if (req.method === 'HEAD') res.end();
  else createReadStream(path).pipe(res);
}

const server = createServer((req, res) => {
  res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
  if (req.method !== 'GET' && req.method !== 'HEAD') return fail(res, 405, 'UNSUPPORTED', 'this registry is read only');
  const url = new URL(req.url ?? '/', 'http://registry');
  if (url.pathname === '/v2/' || url.pathname === '/v2') {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 2 });
    return res.end('{}');
  }
  const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
  if (!m) return fail(res, 404, 'NOT_FOUND', 'not found');
  const [, name, kind, reference] = m;
  if (kind === 'blobs') {
    const path = blobPath(reference);
    return path ? sendBlob(req, res, reference, path, 'application/octet-stream') : fail(res, 404, 'BLOB_UNKNOWN', `blob ${reference} unknown`);
  }
  let digest: string | undefined;
  if (reference.startsWith('sha256:')) {
    digest = [...references().values()].includes(reference) ? reference : undefined;
  } else {
    // As a mirror the registry's host comes in ?ns=; asked directly, the name may carry it, or means Docker Hub.
    const ns = url.searchParams.get('ns');
    const candidates = ns ? [`${ns}/${name}:${reference}`] : [`${name}:${reference}`, `docker.io/${name}:${reference}`];
    if (ns === 'docker.io' && !name.includes('/')) candidates.push(`docker.io/library/${name}:${reference}`);
    digest = candidates.map((c) => references().get(c)).find(Boolean);
  }
  const path = digest && blobPath(digest);
  if (!digest || !path) return fail(res, 404, 'MANIFEST_UNKNOWN', `manifest unknown: ${name}:${reference}`);
  sendBlob(req, res, digest, path, MANIFEST);
});

const colon = listen.lastIndexOf(':');
server.listen(Number(listen.slice(colon + 1)), listen.slice(0, colon) || '127.0.0.1', () => {
  console.log(`kubelab image registry serving ${dir} on http://${listen}`);
});
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
