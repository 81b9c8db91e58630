// Test helper: a tiny HTTPS server that pretends to be an apiserver just enough for kubectl (legacy
// discovery plus canned replies) and records every request body, so tests can see exactly what kubectl
// puts on the wire. Used by the protobuf tests and by the fixture recorder; never by the apiserver itself.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CapturedRequest {
  method: string;
  url: string;
  contentType: string;
  body: Buffer;
}

export interface Reply {
  status: number;
  body: unknown;
}

/** Answers a non-discovery request; return undefined to get a 404 Status. */
export type ReplyFn = (req: CapturedRequest) => Reply | undefined;

interface ResourceRow {
  name: string;
  kind: string;
  namespaced: boolean;
  verbs?: string[];
  group?: string;
  version?: string;
}

const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
const NS = true;

/** group/version -> resources kubectl needs to resolve the commands the tests run. */
const RESOURCES: Record<string, ResourceRow[]> = {
  v1: [
    { name: 'namespaces', kind: 'Namespace', namespaced: false },
    { name: 'configmaps', kind: 'ConfigMap', namespaced: NS },
    { name: 'secrets', kind: 'Secret', namespaced: NS },
    { name: 'serviceaccounts', kind: 'ServiceAccount', namespaced: NS },
    { name: 'services', kind: 'Service', namespaced: NS },
    { name: 'resourcequotas', kind: 'ResourceQuota', namespaced: NS },
    { name: 'pods', kind: 'Pod', namespaced: NS },
    { name: 'pods/eviction', kind: 'Eviction', namespaced: NS, verbs: ['create'], group: 'policy', version: 'v1' },
    { name: 'nodes', kind: 'Node', namespaced: false },
    { name: 'replicationcontrollers', kind: 'ReplicationController', namespaced: NS },
    { name: 'replicationcontrollers/scale', kind: 'Scale', namespaced: NS, verbs: ['get', 'patch', 'update'] },
  ],
  'apps/v1': [
    { name: 'deployments', kind: 'Deployment', namespaced: NS },
    { name: 'deployments/scale', kind: 'Scale', namespaced: NS, verbs: ['get', 'patch', 'update'] },
    { name: 'replicasets', kind: 'ReplicaSet', namespaced: NS },
    { name: 'replicasets/scale', kind: 'Scale', namespaced: NS, verbs: ['get', 'patch', 'update'] },
    { name: 'statefulsets', kind: 'StatefulSet', namespaced: NS },
  ],
  'batch/v1': [
    { name: 'jobs', kind: 'Job', namespaced: NS },
    { name: 'cronjobs', kind: 'CronJob', namespaced: NS },
  ],
  'rbac.authorization.k8s.io/v1': [
    { name: 'roles', kind: 'Role', namespaced: NS },
    { name: 'clusterroles', kind: 'ClusterRole', namespaced: false },
    { name: 'rolebindings', kind: 'RoleBinding', namespaced: NS },
    { name: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false },
  ],
  'scheduling.k8s.io/v1': [{ name: 'priorityclasses', kind: 'PriorityClass', namespaced: false }],
  'policy/v1': [{ name: 'poddisruptionbudgets', kind: 'PodDisruptionBudget', namespaced: NS }],
  'networking.k8s.io/v1': [{ name: 'ingresses', kind: 'Ingress', namespaced: NS }],
  'certificates.k8s.io/v1': [
    { name: 'certificatesigningrequests', kind: 'CertificateSigningRequest', namespaced: false },
    { name: 'certificatesigningrequests/approval', kind: 'CertificateSigningRequest', namespaced: false, verbs: ['get', 'patch', 'update'] },
  ],
};

function discovery(path: string): unknown {
  if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
  if (path === '/apis') {
    const groups = Object.keys(RESOURCES)
      .filter((gv) => gv.includes('/'))
      .map((gv) => {
        const [name, version] = gv.split('/') as [string, string];
        const v = { groupVersion: gv, version };
        return { name, versions: [v], preferredVersion: v };
      });
    return { kind: 'APIGroupList', apiVersion: 'v1', groups };
  }
  const gv = path === '/api/v1' ? 'v1' : path.startsWith('/apis/') ? path.slice('/apis/'.length) : undefined;
  const rows = gv === undefined ? undefined : RESOURCES[gv];
  if (!rows) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: gv,
    resources: rows.map((r) => ({
      name: r.name,
      singularName: r.name.includes('/') ? '' : r.kind.toLowerCase(),
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs ?? VERBS,
      ...(r.group === undefined ? {} : { group: r.group, version: r.version }),
    })),
  };
}

/** Adds flags before a `--` (which starts a container command), or at the end. */
export function withFlags(args: string[], flags: string[]): string[] {
  const i = args.indexOf('--');
  return i < 0 ? [...args, ...flags] : [...args.slice(0, i), ...flags, ...args.slice(i)];
}

export interface CaptureServer {
  port: number;
  dir: string;
  requests: CapturedRequest[];
  /** Replaces the reply function for the next kubectl run. */
  setReply(fn: ReplyFn): void;
  /** Runs kubectl against this server; resolves even when kubectl exits non-zero. */
  kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

function notFound(url: string): Reply {
  return {
    status: 404,
    body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: `${url} not found`, reason: 'NotFound', code: 404 },
  };
}

export async function startCaptureServer(): Promise<CaptureServer> {
  const dir = await mkdtemp(join(tmpdir(), 'kubectl-capture-'));
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1',
  ]);
  const [key, cert] = await Promise.all([readFile(join(dir, 'key.pem')), readFile(join(dir, 'cert.pem'))]);
  const requests: CapturedRequest[] = [];
  let reply: ReplyFn = () => undefined;

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    const send = (r: Reply): void => {
      res.writeHead(r.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(r.body));
    };
    if (req.method === 'GET') {
      const d = discovery(path);
      if (d !== undefined) return send({ status: 200, body: d });
    }
    const captured: CapturedRequest = {
      method: req.method ?? 'GET',
      url,
      contentType: String(req.headers['content-type'] ?? ''),
      body,
    };
    requests.push(captured);
    send(reply(captured) ?? notFound(url));
  };

  const server = createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    dir,
    requests,
    setReply(fn) {
      reply = fn;
    },
    async kubectl(args) {
      const full = withFlags(args, [
        `--server=https://127.0.0.1:${port}`,
        '--insecure-skip-tls-verify',
        '--token=x',
        `--cache-dir=${join(dir, 'cache')}`,
      ]);
      const env = { ...process.env, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig') };
      try {
        const { stdout, stderr } = await run('kubectl', full, { env, timeout: 30_000 });
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string };
        return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
      }
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Writes the files `{dir}` placeholders in KUBECTL_CASES refer to. */
export async function writeCaseFiles(dir: string): Promise<void> {
  await writeFile(join(dir, 'blob.bin'), Buffer.from([0xff, 0xfe, 0x00, 0x01]));
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt'), '-days', '1', '-subj', '/CN=example',
  ]);
}

export interface Recorded {
  /** What `--dry-run=client -o json` prints for the command. */
  dryRun: Record<string, unknown>;
  /** The body of the captured request kubectl sent. */
  request: CapturedRequest;
}

export interface RecordOptions {
  /** GET path -> object to answer with. */
  serve?: Record<string, unknown>;
  /** Skip the dry run (commands without one) and expect this object instead. */
  expected?: Record<string, unknown>;
  /** The reply to the captured request; defaults to the dry-run object. */
  reply?: Record<string, unknown>;
  /** The verb to capture; POST unless said. */
  method?: string;
}

/** Runs one command twice against the capture server: dry run for the JSON, then for real. */
export async function recordCase(server: CaptureServer, args: string[], opts: RecordOptions = {}): Promise<Recorded> {
  const expanded = args.map((a) => a.replaceAll('{dir}', server.dir));
  const serve = (req: CapturedRequest): Reply | undefined => {
    const body = req.method === 'GET' ? opts.serve?.[req.url.split('?')[0] ?? ''] : undefined;
    return body === undefined ? undefined : { status: 200, body };
  };
  let dryRun = opts.expected;
  if (!dryRun) {
    server.setReply(serve);
    const dry = await server.kubectl(withFlags(expanded, ['--dry-run=client', '-o', 'json']));
    if (dry.code !== 0) throw new Error(`kubectl ${args.join(' ')} --dry-run failed: ${dry.stderr}`);
    dryRun = JSON.parse(dry.stdout) as Record<string, unknown>;
  }
  const reply = opts.reply ?? dryRun;
  const method = opts.method ?? 'POST';
  const before = server.requests.length;
  server.setReply((req) => (req.method === method ? { status: method === 'POST' ? 201 : 200, body: reply } : serve(req)));
  const real = await server.kubectl(expanded);
  if (real.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${real.stderr}`);
  const request = server.requests.slice(before).find((r) => r.method === method);
  if (!request) throw new Error(`kubectl ${args.join(' ')} sent no ${method}`);
  return { dryRun, request };
}
