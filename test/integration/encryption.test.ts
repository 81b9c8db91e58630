// Encryption at rest with --encryption-provider-config: Secrets reach etcd as upstream's
// k8s:enc:<provider>:v1:<key>: values, the API serves them decrypted, and after a key rotation
// `kubectl get secrets -A -o json | kubectl replace -f -` rewrites every Secret with the new key, even
// those whose content did not change (a stale value is rewritten; a current one is left alone).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type EtcdInstance } from '../fixtures/etcd.js';
import { startApiServer, type ApiServerInstance } from '../fixtures/apiserver.js';
import { kubectl } from '../fixtures/kubectl.js';

const PASSWORD = 'correct-horse-battery-staple';
const key1 = randomBytes(32).toString('base64');
const key2 = randomBytes(32).toString('base64');

let dir: string;
let configFile: string;
let etcd: EtcdInstance;
let api: ApiServerInstance;
let raw: Etcd3;

function writeConfig(providers: unknown[]): void {
  const cfg = { apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration', resources: [{ resources: ['secrets'], providers }] };
  writeFileSync(configFile, JSON.stringify(cfg), { mode: 0o600 });
}

const aescbc = (...keys: Array<[string, string]>) => ({ aescbc: { keys: keys.map(([name, secret]) => ({ name, secret })) } });
const stored = async (key: string) => (await raw.get(key).buffer())!;
const admin = (args: string[], input?: string) => kubectl(api.kubeconfig, args, { input });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubelab-encryption-'));
  configFile = join(dir, 'encryption-config.yaml');
  writeConfig([aescbc(['key1', key1]), { identity: {} }]);
  etcd = await startEtcd();
  raw = new Etcd3({ hosts: [etcd.endpoint] });
  api = await startApiServer({ etcdEndpoint: etcd.endpoint, extraArgs: [`--encryption-provider-config=${configFile}`] });
}, 120_000);

afterAll(async () => {
  raw?.close();
  await api?.stop();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('encryption at rest', () => {
  it('stores a new Secret encrypted with the first provider and serves it decrypted', async () => {
    const res = await api.request('POST', '/api/v1/namespaces/default/secrets', {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 's1' }, stringData: { password: PASSWORD },
    });
    expect(res.status).toBe(201);
    const value = await stored('/registry/secrets/default/s1');
    expect(value.subarray(0, 23).toString()).toBe('k8s:enc:aescbc:v1:key1:');
    expect(value.includes(Buffer.from(PASSWORD))).toBe(false);
    expect(value.includes(Buffer.from(Buffer.from(PASSWORD).toString('base64')))).toBe(false);
    expect(value.includes(Buffer.from('"name":"s1"'))).toBe(false);

    const got = await api.request('GET', '/api/v1/namespaces/default/secrets/s1');
    expect(got.status).toBe(200);
    expect(Buffer.from(got.json.data.password, 'base64').toString()).toBe(PASSWORD);
    // Lists and watches (served by the watch cache from etcd's watch stream) see the plaintext too.
    const listed = await admin(['get', 'secrets', '-o', 'jsonpath={.items[?(@.metadata.name=="s1")].data.password}']);
    expect(Buffer.from(listed.stdout, 'base64').toString()).toBe(PASSWORD);
  });

  it('leaves resources without providers in plain JSON', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1' }, data: { a: 'b' } };
    expect((await api.request('POST', '/api/v1/namespaces/default/configmaps', cm)).status).toBe(201);
    expect(JSON.parse((await stored('/registry/configmaps/default/c1')).toString()).data).toEqual({ a: 'b' });
  });

  it('reads Secrets stored before encryption through identity, and an unchanged replace of a current value writes nothing', async () => {
    const legacy = {
      apiVersion: 'v1', kind: 'Secret', type: 'Opaque', data: { k: Buffer.from('old').toString('base64') },
      metadata: { name: 'legacy', namespace: 'default', uid: 'legacy-uid', creationTimestamp: '2026-01-01T00:00:00Z' },
    };
    await raw.put('/registry/secrets/default/legacy').value(JSON.stringify(legacy));
    const got = await api.request('GET', '/api/v1/namespaces/default/secrets/legacy');
    expect(got.status).toBe(200);
    expect(got.json.data.k).toBe(legacy.data.k);

    const replace = async () => {
      const before = await admin(['get', 'secret', 's1', '-o', 'json']);
      const replaced = await admin(['replace', '-f', '-'], before.stdout);
      expect(replaced.stderr).toBe('');
      const after = await admin(['get', 'secret', 's1', '-o', 'json']);
      return [JSON.parse(before.stdout).metadata.resourceVersion, JSON.parse(after.stdout).metadata.resourceVersion];
    };
    await replace();
    const [rv, rvAfter] = await replace();
    expect(rvAfter).toBe(rv);
  });

  it('after a key rotation, get | replace rewrites every Secret with the new key', async () => {
    writeConfig([aescbc(['key2', key2], ['key1', key1]), { identity: {} }]);
    await api.restart();
    // key1 still reads.
    const s1 = await api.request('GET', '/api/v1/namespaces/default/secrets/s1');
    expect(Buffer.from(s1.json.data.password, 'base64').toString()).toBe(PASSWORD);
    const rvBefore = s1.json.metadata.resourceVersion;

    const all = await admin(['get', 'secrets', '-A', '-o', 'json']);
    expect(all.code).toBe(0);
    const replaced = await admin(['replace', '-f', '-'], all.stdout);
    expect(replaced.stderr).toBe('');
    expect(replaced.stdout).toContain('secret/s1 replaced');
    for (const name of ['s1', 'legacy']) {
      expect((await stored(`/registry/secrets/default/${name}`)).subarray(0, 23).toString(), name).toBe('k8s:enc:aescbc:v1:key2:');
    }
    const after = await api.request('GET', '/api/v1/namespaces/default/secrets/s1');
    expect(after.json.metadata.resourceVersion).not.toBe(rvBefore);
    expect(Buffer.from(after.json.data.password, 'base64').toString()).toBe(PASSWORD);
  });

  it('a value no configured provider can read is an internal error', async () => {
    writeConfig([aescbc(['key3', randomBytes(32).toString('base64')])]);
    await api.restart();
    const res = await api.request('GET', '/api/v1/namespaces/default/secrets/s1');
    expect(res.status).toBe(500);
    expect(res.json).toMatchObject({ kind: 'Status', reason: 'InternalError', message: 'Internal error occurred: no matching prefix found' });
    // A paged list reads etcd directly and names the key it could not read.
    const list = await api.request('GET', '/api/v1/namespaces/default/secrets?limit=10');
    expect(list.status).toBe(500);
    expect(list.json.message).toMatch(/^Internal error occurred: unable to transform key "\/registry\/secrets\/default\/\w+": no matching prefix found$/);
  });

  it('the apiserver refuses to start with an invalid configuration', async () => {
    writeConfig([aescbc(['short', randomBytes(16).toString('base64')])]);
    await expect(api.restart()).rejects.toThrow(/secret is not of the expected length, got 16, expected one of \[32\]/);
  });
});
