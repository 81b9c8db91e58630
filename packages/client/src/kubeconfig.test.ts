import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultKubeconfigPath, inClusterConfig, loadKubeconfig, parseKubeconfig } from './kubeconfig.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const inline = `
apiVersion: v1
kind: Config
current-context: admin@lab
clusters:
- name: lab
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority-data: ${b64('CA PEM')}
    tls-server-name: kubernetes
- name: other
  cluster:
    server: https://10.0.0.1:6443
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    client-certificate-data: ${b64('CERT PEM')}
    client-key-data: ${b64('KEY PEM')}
- name: bot
  user:
    token: abc.def
contexts:
- name: admin@lab
  context: { cluster: lab, user: admin, namespace: kube-system }
- name: bot@other
  context: { cluster: other, user: bot }
`;

describe('parseKubeconfig', () => {
  it('uses current-context and decodes inline data', () => {
    expect(parseKubeconfig(inline)).toEqual({
      server: 'https://127.0.0.1:6443',
      ca: 'CA PEM',
      cert: 'CERT PEM',
      key: 'KEY PEM',
      tlsServerName: 'kubernetes',
      namespace: 'kube-system',
    });
  });

  it('honours a --context override with a token user and insecure cluster', () => {
    expect(parseKubeconfig(inline, { context: 'bot@other' })).toEqual({
      server: 'https://10.0.0.1:6443',
      insecureSkipTLSVerify: true,
      token: 'abc.def',
    });
  });

  it('rejects an unknown context', () => {
    expect(() => parseKubeconfig(inline, { context: 'nope' })).toThrow('context was not found for specified context: nope');
  });
});

describe('loadKubeconfig', () => {
  it('reads certificate files and tokenFile relative to the kubeconfig directory', () => {
    mkdirSync(join(dir, 'pki'));
    writeFileSync(join(dir, 'pki', 'ca.crt'), 'FILE CA');
    writeFileSync(join(dir, 'pki', 'admin.crt'), 'FILE CERT');
    writeFileSync(join(dir, 'pki', 'admin.key'), 'FILE KEY');
    writeFileSync(join(dir, 'token'), 'file-token\n');
    writeFileSync(
      join(dir, 'config'),
      `current-context: c
clusters: [{ name: k, cluster: { server: 'https://127.0.0.1:6443', certificate-authority: pki/ca.crt } }]
users: [{ name: u, user: { client-certificate: pki/admin.crt, client-key: ${join(dir, 'pki', 'admin.key')}, tokenFile: token } }]
contexts: [{ name: c, context: { cluster: k, user: u } }]
`,
    );
    expect(loadKubeconfig(join(dir, 'config'))).toEqual({
      server: 'https://127.0.0.1:6443',
      ca: 'FILE CA',
      cert: 'FILE CERT',
      key: 'FILE KEY',
      token: 'file-token',
      tokenFile: join(dir, 'token'),
    });
  });

  it('defaults to the first $KUBECONFIG entry, then ~/.kube/config', () => {
    expect(defaultKubeconfigPath({ KUBECONFIG: `:/a/one:/b/two`, HOME: '/home/x' })).toBe('/a/one');
    expect(defaultKubeconfigPath({ HOME: '/home/x' })).toBe('/home/x/.kube/config');
    writeFileSync(join(dir, 'cfg'), inline);
    expect(loadKubeconfig(undefined, { env: { KUBECONFIG: join(dir, 'cfg') } }).server).toBe('https://127.0.0.1:6443');
  });
});

describe('inClusterConfig', () => {
  it('builds the config from the service account mount and env', () => {
    writeFileSync(join(dir, 'token'), 'sa-token\n');
    writeFileSync(join(dir, 'ca.crt'), 'SA CA');
    writeFileSync(join(dir, 'namespace'), 'team-a');
    const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    expect(inClusterConfig({ env, serviceAccountDir: dir })).toEqual({
      server: 'https://10.96.0.1:443',
      token: 'sa-token',
      tokenFile: join(dir, 'token'),
      ca: 'SA CA',
      namespace: 'team-a',
    });
    expect(inClusterConfig({ env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: dir }).server).toBe(
      'https://[fd00::1]:443',
    );
  });

  it('fails outside a cluster', () => {
    expect(() => inClusterConfig({ env: {}, serviceAccountDir: dir })).toThrow(/KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined/);
  });
});
