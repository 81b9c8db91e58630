// kubectl's write path: scale, dry run, patch types, apply, edit, diff, explain, field validation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';
import { kubectl } from '../fixtures/kubectl.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;
const k = (args: string[], input?: string) => kubectl(api.kubeconfig, args, { input });

const deployment = (name: string, replicas = 1, image = 'nginx:1.25') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels:
    app: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
      - name: web
        image: ${image}
        ports:
        - containerPort: 80
`;

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint });
});

afterAll(async () => {
  await api?.stop();
  await etcd?.stop();
});

describe('scale subresource', () => {
  it('kubectl scale changes spec.replicas through /scale', async () => {
    expect((await k(['create', '--validate=false', '-f', '-'], deployment('sc', 1))).code).toBe(0);
    const r = await k(['scale', 'deployment', 'sc', '--replicas=4']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('deployment.apps/sc scaled');
    expect((await k(['get', 'deploy', 'sc', '-o', 'jsonpath={.spec.replicas}'])).stdout).toBe('4');
    const scale = (await api.request('GET', '/apis/apps/v1/namespaces/default/deployments/sc/scale')).json;
    expect(scale).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 4 }, status: { replicas: 0, selector: 'app=sc' } });
    const stale = await k(['scale', 'deployment', 'sc', '--replicas=2', '--current-replicas=3']);
    expect(stale.code).not.toBe(0);
    expect(stale.stderr).toContain('Expected replicas to be 3, was 4');
  });
});

describe('dry run', () => {
  it('create --dry-run=server returns the defaulted object and stores nothing', async () => {
    const r = await k(['create', '--validate=false', '--dry-run=server', '-o', 'yaml', '-f', '-'], deployment('dry', 2));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('revisionHistoryLimit: 10');
    expect(r.stdout).toContain('uid:');
    const get = await k(['get', 'deploy', 'dry']);
    expect(get.stderr.trim()).toBe('Error from server (NotFound): deployments.apps "dry" not found');
  });

  it('a dry-run Service allocates nothing', async () => {
    const svc = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: dry-svc\nspec:\n  type: NodePort\n  ports:\n  - port: 80\n    nodePort: 30123\n';
    expect((await k(['create', '--validate=false', '--dry-run=server', '-f', '-'], svc)).code).toBe(0);
    const real = await k(['create', '--validate=false', '-f', '-'], svc);
    expect(real.code, real.stderr).toBe(0);
  });
});
