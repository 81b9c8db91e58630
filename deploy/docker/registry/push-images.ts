// Pushes the offline pod images of hack/images/build.sh into the compose lab's registry under the names the seeds
// use (upstream: `docker push` / `crane push` of each image; the push side of the OCI distribution API):
// `docker.io/library/nginx:1.25` becomes repository `library/nginx`, tag `1.25`, as a containerd mirror asks for it.
// Blobs already in the registry are skipped (HEAD) or mounted from a repository they were pushed to; a tag whose
// manifest is already there is left alone, so a second run only sends HEAD requests.
//   node --import tsx deploy/docker/registry/push-images.ts --registry=http://127.0.0.1:5000 [--dir=.kubelab/images]
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const args = new Map(process.argv.slice(2).map((a) => [a.replace(/=.*/, ''), a.includes('=') ? a.slice(a.indexOf('=') + 1) : '']));
const registry = (args.get('--registry') || 'http://127.0.0.1:5000').replace(/\/+$/, '');
const dir = resolve(args.get('--dir') || '.kubelab/images');
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

interface Descriptor {
  digest: string;
  size: number;
}

/** `docker.io/library/nginx:1.25` -> ['library/nginx', '1.25']: the path a mirror of the reference's host is asked. */
export function repositoryAndTag(ref: string): [string, string] {
  const colon = ref.lastIndexOf(':');
  const name = ref.slice(0, colon);
  const tag = ref.slice(colon + 1);
  const slash = name.indexOf('/');
  const host = name.slice(0, slash);
  const hasHost = slash > 0 && (host.includes('.') || host.includes(':') || host === 'localhost');
  const path = hasHost ? name.slice(slash + 1) : name;
  return [!hasHost || host === 'docker.io' ? (path.includes('/') ? path : `library/${path}`) : path, tag];
}

const blobFile = (digest: string) => join(dir, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));

async function check(res: Response, what: string, ok: number[]): Promise<Response> {
  if (!ok.includes(res.status)) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
  return res;
}

/** Where each blob was pushed (for cross-repository mounts). */
const pushedTo = new Map<string, string>();

async function pushBlob(repo: string, blob: Descriptor): Promise<boolean> {
  const head = await fetch(`${registry}/v2/${repo}/blobs/${blob.digest}`, { method: 'HEAD' });
  if (head.status === 200) {
    pushedTo.set(blob.digest, repo);
    return false;
  }
  const from = pushedTo.get(blob.digest);
  const query = from ? `?mount=${blob.digest}&from=${encodeURIComponent(from)}` : '';
  const started = await check(await fetch(`${registry}/v2/${repo}/blobs/uploads/${query}`, { method: 'POST' }), `upload ${repo}`, [201, 202]);
  if (started.status === 202) {
    const location = new URL(started.headers.get('location') ?? '', `${registry}/`);
    location.searchParams.set('digest', blob.digest);
    const body = readFileSync(blobFile(blob.digest));
    await check(
      await fetch(location, { method: 'PUT', body, headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(body.length) } }),
      `blob ${blob.digest} to ${repo}`,
      [201],
    );
  }
  pushedTo.set(blob.digest, repo);
  return true;
}

async function main(): Promise<void> {
  const started = Date.now();
  const lines = readFileSync(join(dir, 'images.txt'), 'utf8').split('\n').filter(Boolean);
  let tags = 0;
  let blobs = 0;
  let skipped = 0;
  for (const line of lines) {
    const [ref, , digest] = line.split(' ');
    if (!ref || !digest) continue;
    const [repo, tag] = repositoryAndTag(ref);
    const head = await fetch(`${registry}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { Accept: MANIFEST } });
    if (head.status === 200 && head.headers.get('docker-content-digest') === digest) {
      skipped++;
      continue;
    }
    const manifestBytes = readFileSync(blobFile(digest));
    const manifest = JSON.parse(manifestBytes.toString()) as { config: Descriptor; layers: Descriptor[] };
    for (const blob of [...manifest.layers, manifest.config]) if (await pushBlob(repo, blob)) blobs++;
    await check(
      await fetch(`${registry}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: manifestBytes, headers: { 'Content-Type': MANIFEST } }),
      `manifest ${repo}:${tag}`,
      [201],
    );
    tags++;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`pushed ${tags} tags (${blobs} blobs) to ${registry}, ${skipped} already there, in ${seconds}s`);
}

await main();
