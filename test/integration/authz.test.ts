// Authorization with real kubectl against an apiserver started with --authorization-mode=Node,RBAC:
// the bootstrap roles, `kubectl auth can-i` compared with what the API actually does, kubectl
// create role/rolebinding, escalation prevention, 403 messages, and what anonymous callers may do.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKubeconfig, issueCertificate, loadCA } from '@kubelab/component-base';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';
import { kubectl } from '../fixtures/kubectl.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;
const kubeconfigs = new Map<string, string>();

const admin = (args: string[], input?: string) => kubectl(api.kubeconfig, args, { input });
/** kubectl as one of the test identities (client certificates issued by the cluster CA). */
const as = (who: string, args: string[], input?: string) => kubectl(kubeconfigs.get(who)!, args, { input });

const IDENTITIES: Record<string, { cn: string; groups: string[] }> = {
  viewer: { cn: 'jane', groups: [] },
  editor: { cn: 'ed', groups: [] },
  lead: { cn: 'lena', groups: [] },
  self: { cn: 'sam', groups: [] },
  robot: { cn: 'system:serviceaccount:team-a:robot', groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a'] },
  node1: { cn: 'system:node:n1', groups: ['system:nodes'] },
};

const pod = (name: string, node: string, secret: string, configMap: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'team-a' },
  spec: {
    nodeName: node,
    containers: [{ name: 'c', image: 'busybox', env: [{ name: 'S', valueFrom: { secretKeyRef: { name: secret, key: 'k' } } }] }],
    volumes: [{ name: 'cm', configMap: { name: configMap } }],
  },
});

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint, extraArgs: ['--authorization-mode=Node,RBAC'] });
  const ca = await loadCA(api.pkiDir);
  for (const [id, { cn, groups }] of Object.entries(IDENTITIES)) {
    const pair = await issueCertificate(ca, { commonName: cn, organizations: groups, usage: 'client' });
    const file = join(api.pkiDir, `${id}.conf`);
    writeFileSync(file, buildKubeconfig({ server: api.url, caPem: ca.certPem, user: cn, certPem: pair.certPem, keyPem: pair.keyPem }), { mode: 0o600 });
    kubeconfigs.set(id, file);
  }
  const setup = [
    ['create', 'namespace', 'team-a'],
    ['create', 'namespace', 'team-b'],
    ['-n', 'team-a', 'create', 'serviceaccount', 'default'],
    ['-n', 'team-b', 'create', 'serviceaccount', 'default'],
    ['-n', 'team-a', 'create', 'serviceaccount', 'robot'],
    ['-n', 'team-a', 'create', 'secret', 'generic', 's1', '--from-literal=k=v'],
    ['-n', 'team-a', 'create', 'secret', 'generic', 's2', '--from-literal=k=v'],
    ['-n', 'team-a', 'create', 'configmap', 'cm1', '--from-literal=k=v'],
    ['-n', 'team-a', 'create', 'configmap', 'cm2', '--from-literal=k=v'],
    ['-n', 'team-a', 'create', 'rolebinding', 'jane-view', '--clusterrole=view', '--user=jane'],
    ['-n', 'team-a', 'create', 'rolebinding', 'ed-edit', '--clusterrole=edit', '--user=ed'],
    ['-n', 'team-a', 'create', 'rolebinding', 'lena-admin', '--clusterrole=admin', '--user=lena'],
    ['-n', 'team-a', 'create', 'role', 'pod-reader', '--verb=get,list', '--resource=pods'],
    ['-n', 'team-a', 'create', 'rolebinding', 'robot-reads-pods', '--role=pod-reader', '--serviceaccount=team-a:robot'],
    ['-n', 'team-a', 'create', 'role', 'self-role', '--verb=get,update,patch', '--resource=roles', '--resource-name=self-role'],
    ['-n', 'team-a', 'create', 'rolebinding', 'sam-self', '--role=self-role', '--user=sam'],
  ];
  for (const args of setup) {
    const r = await admin(args);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  }
  for (const p of [pod('p1', 'n1', 's1', 'cm1'), pod('p2', 'n2', 's2', 'cm2')]) {
    const r = await admin(['create', '-f', '-'], JSON.stringify(p));
    expect(r.code, r.stderr).toBe(0);
  }
}, 180_000);

afterAll(async () => {
  await api?.stop();
  await etcd?.stop();
});

describe('bootstrap policy', () => {
  it('creates the default cluster roles and bindings', async () => {
    const r = await admin(['get', 'clusterroles', '-o', 'name']);
    expect(r.code, r.stderr).toBe(0);
    for (const name of ['cluster-admin', 'admin', 'edit', 'view', 'system:basic-user', 'system:discovery', 'system:public-info-viewer', 'system:kube-scheduler', 'system:kube-controller-manager', 'system:node', 'system:node-proxier', 'system:kube-dns', 'system:node-bootstrapper', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient']) {
      expect(r.stdout).toContain(`clusterrole.rbac.authorization.k8s.io/${name}\n`);
    }
    const b = await admin(['get', 'clusterrolebinding', 'system:public-info-viewer', '-o', 'jsonpath={.subjects[*].name}']);
    expect(b.stdout).toBe('system:authenticated system:unauthenticated');
    const view = await admin(['get', 'clusterrole', 'view', '-o', 'jsonpath={.aggregationRule.clusterRoleSelectors[0].matchLabels}']);
    expect(JSON.parse(view.stdout)).toEqual({ 'rbac.authorization.k8s.io/aggregate-to-view': 'true' });
  });
});

type Row = [who: string, verb: string, target: string, namespace: string, expected: boolean];

// What each identity may do, as the bootstrap roles and the bindings above say.
const TABLE: Row[] = [
  ['viewer', 'get', 'pods/p1', 'team-a', true],
  ['viewer', 'list', 'pods', 'team-a', true],
  ['viewer', 'get', 'secrets/s1', 'team-a', false],
  ['viewer', 'list', 'secrets', 'team-a', false],
  ['viewer', 'create', 'configmaps', 'team-a', false],
  ['viewer', 'list', 'pods', 'team-b', false],
  ['editor', 'get', 'secrets/s1', 'team-a', true],
  ['editor', 'create', 'configmaps', 'team-a', true],
  ['editor', 'list', 'roles', 'team-a', false],
  ['editor', 'create', 'roles', 'team-a', false],
  ['editor', 'create', 'rolebindings', 'team-a', false],
  ['robot', 'list', 'pods', 'team-a', true],
  ['robot', 'get', 'pods/p1', 'team-a', true],
  ['robot', 'list', 'pods', 'team-b', false],
  ['robot', 'list', 'secrets', 'team-a', false],
  ['node1', 'get', 'secrets/s1', 'team-a', true],
  ['node1', 'get', 'secrets/s2', 'team-a', false],
  ['node1', 'get', 'configmaps/cm1', 'team-a', true],
  ['node1', 'get', 'configmaps/cm2', 'team-a', false],
  ['node1', 'list', 'secrets', 'team-a', false],
  ['node1', 'get', 'nodes/n1', '', true],
  ['node1', 'get', 'pods/p1', 'team-a', true],
  ['node1', 'get', 'pods/p2', 'team-a', false],
];

/** Does the action for real and reports whether the API allowed it (403 = no; anything else = yes). */
async function attempt(who: string, verb: string, target: string, ns: string): Promise<boolean> {
  const nsArgs = ns ? ['-n', ns] : [];
  const [resource, name] = target.split('/');
  let args: string[];
  if (verb === 'get') args = ['get', resource, name];
  else if (verb === 'list') args = ['get', resource];
  else if (verb === 'create' && resource === 'configmaps') args = ['create', 'configmap', `probe-${who}`, '--dry-run=server'];
  else if (verb === 'create' && resource === 'roles') args = ['create', 'role', `probe-${who}`, '--verb=get', '--resource=configmaps', '--dry-run=server'];
  else if (verb === 'create' && resource === 'rolebindings') args = ['create', 'rolebinding', `probe-${who}`, '--clusterrole=view', '--user=x', '--dry-run=server'];
  else throw new Error(`no action for ${verb} ${target}`);
  const r = await as(who, [...nsArgs, ...args]);
  if (r.code === 0) return true;
  // `kubectl get` prints "Error from server (Forbidden): ...", `kubectl create` "error: failed to create ...: ... is forbidden: ...".
  if (/\(Forbidden\)|is forbidden: User /.test(r.stderr)) return false;
  // A get of a missing node is allowed, just not found.
  if (/\(NotFound\)/.test(r.stderr)) return true;
  throw new Error(`${who} ${args.join(' ')}: ${r.stderr}`);
}

describe('kubectl auth can-i agrees with the API', () => {
  it.each(TABLE)('%s %s %s in %s -> %s', async (who, verb, target, ns, expected) => {
    const can = await as(who, ['auth', 'can-i', verb, target, ...(ns ? ['-n', ns] : [])]);
    // A denial may carry the authorizer's reason: "no - no relationship found between node 'n1' and this object".
    expect(can.stdout.trim().split(' ')[0], can.stderr).toBe(expected ? 'yes' : 'no');
    expect(can.code).toBe(expected ? 0 : 1);
    expect(await attempt(who, verb, target, ns)).toBe(expected);
  });

  it('gives upstream 403 messages', async () => {
    const r = await as('viewer', ['-n', 'team-a', 'get', 'secret', 's1']);
    expect(r.stderr.trim()).toBe('Error from server (Forbidden): secrets "s1" is forbidden: User "jane" cannot get resource "secrets" in API group "" in the namespace "team-a"');
    const l = await as('robot', ['get', 'pods', '-n', 'team-b']);
    expect(l.stderr.trim()).toBe('Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:team-a:robot" cannot list resource "pods" in API group "" in the namespace "team-b"');
    const c = await as('viewer', ['get', 'nodes']);
    expect(c.stderr.trim()).toBe('Error from server (Forbidden): nodes is forbidden: User "jane" cannot list resource "nodes" in API group "" at the cluster scope');
    const logs = await as('viewer', ['auth', 'can-i', 'get', 'pods', '--subresource=log', '-n', 'team-a']);
    expect(logs.stdout.trim()).toBe('yes');
    const exec = await as('viewer', ['auth', 'can-i', 'create', 'pods', '--subresource=exec', '-n', 'team-a']);
    expect(exec.stdout.trim()).toBe('no');
  });

  it('lists a service account\'s rules with can-i --list', async () => {
    const r = await as('robot', ['auth', 'can-i', '--list', '-n', 'team-a']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$/m);
    expect(r.stdout).toMatch(/^pods\s+\[\]\s+\[\]\s+\[get list\]$/m);
    expect(r.stdout).toMatch(/^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/m);
    expect(r.stdout).toMatch(/^\s+\[\/api\/\*\]\s+\[\]\s+\[get\]$/m);
    expect(r.stdout).not.toMatch(/^secrets/m);
  });

  it('answers SubjectAccessReview for another user (kubectl auth can-i --as is not needed)', async () => {
    const sar = { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: 'jane', resourceAttributes: { namespace: 'team-a', verb: 'list', resource: 'pods' } } };
    const r = await api.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', sar);
    expect(r.status).toBe(201);
    expect(r.json.status.allowed).toBe(true);
    const denied = await api.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { ...sar, spec: { ...sar.spec, resourceAttributes: { namespace: 'team-a', verb: 'get', resource: 'secrets' } } });
    expect(denied.json.status.allowed).toBe(false);
    const bad = await api.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { ...sar, spec: { user: 'jane' } });
    expect(bad.status).toBe(422);
    expect(bad.json.message).toContain('exactly one of nonResourceAttributes or resourceAttributes must be specified');
  });
});

describe('kubectl create role/rolebinding', () => {
  it('a service account gains and loses access as its bindings say', async () => {
    expect((await as('robot', ['get', 'configmaps', '-n', 'team-a'])).code).toBe(1);
    expect((await admin(['-n', 'team-a', 'create', 'role', 'cm-reader', '--verb=list', '--resource=configmaps'])).code).toBe(0);
    expect((await admin(['-n', 'team-a', 'create', 'rolebinding', 'robot-cm', '--role=cm-reader', '--serviceaccount=team-a:robot'])).code).toBe(0);
    const ok = await as('robot', ['get', 'configmaps', '-n', 'team-a', '-o', 'name']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('configmap/cm1');
    expect((await admin(['-n', 'team-a', 'delete', 'rolebinding', 'robot-cm'])).code).toBe(0);
    const gone = await as('robot', ['get', 'configmaps', '-n', 'team-a']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('cannot list resource "configmaps"');
  });
});

describe('escalation prevention', () => {
  it('refuses binding cluster-admin without holding it', async () => {
    const r = await as('lead', ['-n', 'team-a', 'create', 'rolebinding', 'grab', '--clusterrole=cluster-admin', '--user=lena']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'error: failed to create rolebinding: rolebindings.rbac.authorization.k8s.io "grab" is forbidden: user "lena" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:["*"], Resources:["*"], Verbs:["*"]}\n{NonResourceURLs:["*"], Verbs:["*"]}',
    );
  });

  it('allows binding a role whose permissions are held', async () => {
    const r = await as('lead', ['-n', 'team-a', 'create', 'rolebinding', 'give-view', '--clusterrole=view', '--user=someone']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('refuses a role granting what its author does not hold, allows one within', async () => {
    const bad = await as('lead', ['-n', 'team-a', 'create', 'role', 'nodes-reader', '--verb=get', '--resource=nodes']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('roles.rbac.authorization.k8s.io "nodes-reader" is forbidden: user "lena" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}');
    const good = await as('lead', ['-n', 'team-a', 'create', 'role', 'secret-reader', '--verb=get', '--resource=secrets']);
    expect(good.code, good.stderr).toBe(0);
  });

  it('refuses editing one\'s own role to grant more', async () => {
    const patch = JSON.stringify([{ op: 'add', path: '/rules/-', value: { apiGroups: [''], resources: ['secrets'], verbs: ['get'] } }]);
    const r = await as('self', ['-n', 'team-a', 'patch', 'role', 'self-role', '--type=json', '-p', patch]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('roles.rbac.authorization.k8s.io "self-role" is forbidden: user "sam" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}');
    // A change that grants nothing new is fine.
    const label = await as('self', ['-n', 'team-a', 'label', 'role', 'self-role', 'touched=yes']);
    expect(label.code, label.stderr).toBe(0);
  });

  it('rejects changing a binding\'s roleRef', async () => {
    const r = await admin(['-n', 'team-a', 'patch', 'rolebinding', 'jane-view', '--type=merge', '-p', '{"roleRef":{"name":"edit"}}']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('roleRef: Invalid value:');
    expect(r.stderr).toContain('cannot change roleRef');
  });
});

describe('anonymous requests', () => {
  const anonymous = (path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: api.port, path, method: 'GET', rejectUnauthorized: false, headers: { accept: 'application/json' } }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });

  it('may read health and version only', async () => {
    for (const p of ['/healthz', '/livez', '/readyz', '/version']) expect((await anonymous(p)).status, p).toBe(200);
    for (const p of ['/api', '/apis', '/metrics', '/openapi/v2', '/api/v1/namespaces/default/pods', '/api/v1/namespaces']) expect((await anonymous(p)).status, p).toBe(403);
    const r = await anonymous('/api/v1/namespaces');
    expect(JSON.parse(r.body).message).toBe('namespaces is forbidden: User "system:anonymous" cannot list resource "namespaces" in API group "" at the cluster scope');
    expect(JSON.parse((await anonymous('/metrics')).body).message).toBe('forbidden: User "system:anonymous" cannot get path "/metrics"');
  });

  it('authenticated users may use discovery', async () => {
    const r = await as('viewer', ['api-resources', '--api-group=apps']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
  });
});

describe('impersonating a service account (kubectl --as)', () => {
  it('succeeds and fails as the role and binding say', async () => {
    const asSA = (args: string[]) => admin(['--as=system:serviceaccount:team-imp:robot', ...args]);
    expect((await admin(['create', 'namespace', 'team-imp'])).code).toBe(0);
    expect((await admin(['create', 'serviceaccount', 'robot', '-n', 'team-imp'])).code).toBe(0);
    const before = await asSA(['get', 'pods', '-n', 'team-imp']);
    expect(before.stderr.trim()).toBe(
      'Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:team-imp:robot" cannot list resource "pods" in API group "" in the namespace "team-imp"',
    );
    expect((await admin(['create', 'role', 'pod-reader', '--verb=get,list,watch', '--resource=pods', '-n', 'team-imp'])).code).toBe(0);
    expect((await admin(['create', 'rolebinding', 'robot-reads', '--role=pod-reader', '--serviceaccount=team-imp:robot', '-n', 'team-imp'])).code).toBe(0);
    const after = await asSA(['get', 'pods', '-n', 'team-imp']);
    expect(after.code, after.stderr).toBe(0);
    expect(after.stderr.trim()).toBe('No resources found in team-imp namespace.');
    // Only in its namespace, and only reading.
    expect((await asSA(['get', 'pods', '-n', 'default'])).stderr).toContain('cannot list resource "pods" in API group "" in the namespace "default"');
    expect((await asSA(['create', 'configmap', 'x', '-n', 'team-imp'])).stderr).toContain(
      'configmaps is forbidden: User "system:serviceaccount:team-imp:robot" cannot create resource "configmaps" in API group "" in the namespace "team-imp"',
    );
    expect((await asSA(['auth', 'can-i', 'list', 'pods', '-n', 'team-imp'])).stdout.trim()).toBe('yes');
    expect((await asSA(['auth', 'can-i', 'create', 'pods', '-n', 'team-imp'])).stdout.trim()).toBe('no');
  });
});
