// Real kubectl (v1.32) against the real apiserver: kubectl's client-side validation of a kind whose
// group-version is not in the OpenAPI v3 index falls back to GET /openapi/v2 in the gnostic protobuf
// form; once that decodes, the request fails at the REST mapping as upstream does.
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServerInstance } from '../../../../test/fixtures/apiserver.js';
import { startEtcd, type EtcdInstance } from '../../../../test/fixtures/etcd.js';
import { kubectl } from '../../../../test/fixtures/kubectl.js';
import { PROTOBUF_V2_CONTENT_TYPE, PROTOBUF_V2_RESPONSE_CONTENT_TYPE, openapiV2Document } from './openapi.js';

let etcd: EtcdInstance;
let api: ApiServerInstance;
let cacheDir: string;

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint });
  cacheDir = mkdtempSync(join(tmpdir(), 'kubelab-kubectl-cache-'));
}, 60_000);

afterAll(async () => {
  await api?.stop();
  await etcd?.stop();
  if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
});

const run = (args: string[], input?: string) => kubectl(api.kubeconfig, ['--cache-dir', cacheDir, ...args], { input });

function getBytes(path: string, accept: string): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${api.url}${path}`,
      { method: 'GET', headers: { accept }, ca: readFileSync(join(api.pkiDir, 'ca.crt')), cert: api.adminCert, key: api.adminKey },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Length-delimited fields `n` of a protobuf message (enough to walk Document.definitions). */
function lenFields(b: Buffer, n: number): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  const varint = () => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const byte = b[pos++]!;
      v += (byte & 0x7f) * mul;
      if (byte < 0x80) return v;
      mul *= 128;
    }
  };
  while (pos < b.length) {
    const key = varint();
    const wire = key & 7;
    if (wire === 0) varint();
    else if (wire === 1) pos += 8;
    else if (wire === 2) {
      const len = varint();
      if ((key >>> 3) === n) out.push(b.subarray(pos, pos + len));
      pos += len;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}

describe('GET /openapi/v2 as protobuf, with real kubectl', () => {
  it('lets client-side validation pass so an unknown kind fails at the REST mapping', async () => {
    const policy = ['apiVersion: abac.authorization.kubernetes.io/v1beta1', 'kind: Policy', 'spec:', '  user: alice', '  namespace: "*"', '  resource: "*"', ''].join('\n');
    const r = await run(['apply', '-f', '-'], policy);
    expect(r.code).not.toBe(0);
    expect(r.stderr).not.toContain('error validating data');
    expect(r.stderr).toContain('no matches for kind "Policy" in version "abac.authorization.kubernetes.io/v1beta1"');
  }, 60_000);

  it('still applies a valid Pod with --validate=strict', async () => {
    const pod = ['apiVersion: v1', 'kind: Pod', 'metadata:', '  name: proto-openapi', '  namespace: default', 'spec:', '  containers:', '  - name: c', '    image: busybox', ''].join('\n');
    const r = await run(['apply', '--validate=strict', '-f', '-'], pod);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('pod/proto-openapi created');
    expect(r.code).toBe(0);
  }, 60_000);

  it('serves the gnostic Document with the definitions of the JSON document', async () => {
    const res = await getBytes('/openapi/v2', PROTOBUF_V2_CONTENT_TYPE);
    expect(res.status).toBe(200);
    expect(res.headers.etag).toMatch(/^"[0-9A-F]{128}"$/);
    expect(lenFields(res.body, 1).map((b) => b.toString())).toEqual(['2.0']);
    const [definitions] = lenFields(res.body, 9);
    const names = lenFields(definitions!, 1).map((named) => lenFields(named, 1)[0]!.toString());
    expect(names).toEqual(Object.keys((openapiV2Document() as { definitions: object }).definitions));

    const json = await getBytes('/openapi/v2', 'application/json');
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(json.body.toString()).swagger).toBe('2.0');
  }, 60_000);

  it('labels the body with the gnostic media type, as upstream does', async () => {
    const res = await getBytes('/openapi/v2', PROTOBUF_V2_CONTENT_TYPE);
    expect(res.headers['content-type']).toBe(PROTOBUF_V2_RESPONSE_CONTENT_TYPE);
  }, 60_000);
});
