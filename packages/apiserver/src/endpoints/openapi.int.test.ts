// Real kubectl (v1.32) against a minimal https server that serves discovery and our OpenAPI documents,
// plus just enough of the Deployment REST API for create and client-side apply: proves `kubectl explain`
// reads our v3 documents, and that --validate=strict finds fieldValidation support in them.
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initPKI } from '@kubelab/component-base';
import { freePort } from '../../../../test/fixtures/ports.js';
import { kubectl } from '../../../../test/fixtures/kubectl.js';
import { AGGREGATED_CONTENT_TYPE, aggregatedDiscovery, apiGroupList, apiResourceList, apiVersions, wantsAggregated } from './discovery.js';
import { serveOpenAPI } from './openapi.js';

interface Seen {
  method: string;
  url: string;
  accept: string;
  contentType: string;
  body: string;
}

let dir: string;
let server: https.Server;
let kubeconfig: string;
let cacheDir: string;
const seen: Seen[] = [];
const deployments = new Map<string, Record<string, any>>();

function send(res: import('node:http').ServerResponse, status: number, body: unknown, contentType = 'application/json') {
  res.writeHead(status, { 'content-type': contentType });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function notFound(name: string) {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `deployments.apps "${name}" not found`,
    reason: 'NotFound',
    details: { name, group: 'apps', kind: 'deployments' },
    code: 404,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubelab-openapi-'));
  cacheDir = join(dir, 'cache');
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  await initPKI({ dir, server: url });
  kubeconfig = join(dir, 'admin.conf');
  server = https.createServer({ cert: readFileSync(join(dir, 'apiserver.crt')), key: readFileSync(join(dir, 'apiserver.key')) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url!, url);
      const accept = String(req.headers.accept ?? '');
      seen.push({ method: req.method!, url: req.url!, accept, contentType: String(req.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString() });
      const path = u.pathname.replace(/\/+$/, '');
      if (path.startsWith('/openapi/')) {
        const r = serveOpenAPI(req.url!, accept);
        if (!r) return send(res, 404, '404 page not found', 'text/plain');
        res.writeHead(r.status, { ...r.headers, ...(r.contentType ? { 'content-type': r.contentType } : {}) });
        return res.end(r.body);
      }
      if (path === '/api' || path === '/apis') {
        const agg = wantsAggregated(accept);
        if (agg) return send(res, 200, aggregatedDiscovery(path === '/api'), AGGREGATED_CONTENT_TYPE.replace('v=v2', `v=${agg}`));
        return send(res, 200, path === '/api' ? apiVersions(`127.0.0.1:${port}`) : apiGroupList());
      }
      const m = /^\/apis\/apps\/v1\/namespaces\/default\/deployments(?:\/([^/]+))?$/.exec(path);
      if (m) {
        const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
        if (req.method === 'POST') {
          const obj = { ...body, metadata: { ...body.metadata, namespace: 'default', uid: 'u1', resourceVersion: '1', generation: 1 } };
          deployments.set(obj.metadata.name, obj);
          return send(res, 201, obj);
        }
        const obj = deployments.get(m[1] ?? '');
        if (!obj) return send(res, 404, notFound(m[1] ?? ''));
        return send(res, 200, obj); // GET, and PATCH (answered with the stored object)
      }
      const gv = /^\/api\/(v1)$|^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
      const list = gv && (gv[1] ? apiResourceList('', gv[1]) : apiResourceList(gv[2]!, gv[3]!));
      if (list) return send(res, 200, list);
      send(res, 404, '404 page not found', 'text/plain');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const run = (args: string[], input?: string, cache = cacheDir) => kubectl(kubeconfig, args, { input, env: { KUBECACHEDIR: cache } });

describe('kubectl against our OpenAPI documents', () => {
  it('explains a nested field of a core kind', async () => {
    const r = await run(['explain', 'pod.spec.containers.livenessProbe']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // The template prints the (empty) enum line after FIELD, hence two blank lines, as against upstream.
    expect(r.stdout).toMatch(/^KIND:\s+Pod\nVERSION:\s+v1\n\nFIELD: livenessProbe <Probe>\n\n\nDESCRIPTION:\n/);
    expect(r.stdout).toContain('    Periodic probe of container liveness.');
    expect(r.stdout).toContain('FIELDS:\n  exec\t<ExecAction>\n');
    expect(r.stdout).toMatch(/\n {2}failureThreshold\t<integer>\n {4}Minimum consecutive failures/);
    expect(r.stdout).toContain('\n  httpGet\t<HTTPGetAction>\n');
    const port = await run(['explain', 'pod.spec.containers.livenessProbe.httpGet.port']);
    expect(port.stdout).toContain('FIELD: port <IntOrString>');
    const limits = await run(['explain', 'pod.spec.containers.resources.limits']);
    expect(limits.stdout).toContain('FIELD: limits <map[string]Quantity>');
  });

  it('explains a kind of a named group recursively', async () => {
    const r = await run(['explain', 'deployment', '--recursive']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^GROUP:\s+apps\nKIND:\s+Deployment\nVERSION:\s+v1\n\nDESCRIPTION:\n {4}Deployment enables declarative updates for Pods and ReplicaSets.\n/);
    expect(r.stdout).toContain('\n  spec\t<DeploymentSpec>\n    minReadySeconds\t<integer>\n');
    expect(r.stdout).toContain('\n    selector\t<LabelSelector> -required-\n');
    expect(r.stdout).toContain('\n        containers\t<[]Container> -required-\n');
    expect(r.stdout).toContain('\n          image\t<string>\n');
    expect(r.stdout).toContain('\n    creationTimestamp\t<string>\n');
  });

  it('reports a field that does not exist like upstream', async () => {
    const r = await run(['explain', 'pod.spec.nope']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('field "nope" does not exist');
  });

  it('sends fieldValidation=Strict on create and apply, reading only OpenAPI v3', async () => {
    seen.length = 0;
    const fresh = join(dir, 'cache-apply'); // an empty discovery and OpenAPI cache: see every request
    const manifest = (image: string) =>
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } } },
      });
    const created = await run(['apply', '-f', '-'], manifest('nginx:1'), fresh);
    expect(created.stderr).toBe('');
    expect(created.stdout).toBe('deployment.apps/web created\n');
    const post = seen.find((s) => s.method === 'POST')!;
    expect(new URL(post.url, 'https://x').searchParams.get('fieldValidation')).toBe('Strict');
    const patched = await run(['apply', '-f', '-'], manifest('nginx:2'), fresh);
    expect(patched.stderr).toBe('');
    const patch = seen.find((s) => s.method === 'PATCH')!;
    expect(new URL(patch.url, 'https://x').searchParams.get('fieldValidation')).toBe('Strict');
    // A strategic merge patch computed with the merge keys of our v3 document (containers by name).
    expect(patch.contentType).toBe('application/strategic-merge-patch+json');
    expect(JSON.parse(patch.body).spec.template.spec.containers).toEqual([{ image: 'nginx:2', name: 'c' }]);
    const paths = seen.map((s) => `${s.method} ${s.url.split('?')[0]}`);
    expect(paths).toContain('GET /openapi/v3');
    expect(paths).toContain('GET /openapi/v3/apis/apps/v1');
    expect(paths.filter((p) => p.includes('/openapi/v2'))).toEqual([]);
  });
});
