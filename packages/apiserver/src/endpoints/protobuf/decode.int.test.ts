// Live oracle: runs the kubectl on PATH against a fake HTTPS apiserver, captures the protobuf body it
// sends, and checks it decodes to what `--dry-run=client -o json` prints for the same command.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeProtobufObject, PROTOBUF_MEDIA_TYPE } from './index.js';
import { recordCase, startCaptureServer, writeCaseFiles, type CaptureServer } from '../../../../../test/fixtures/protobuf/kubectl-capture.js';
import { KUBECTL_CASES } from '../../../../../test/fixtures/protobuf/kubectl-cases.js';
import { dropEmpty, getPath, setPath } from '../../../../../test/fixtures/protobuf/test-normalize.js';

const testdata = new URL('./testdata/', import.meta.url);

describe('protobuf bodies captured live from kubectl', () => {
  let server: CaptureServer;
  beforeAll(async () => {
    server = await startCaptureServer();
    await writeCaseFiles(server.dir);
  });
  afterAll(async () => {
    await server?.close();
  });

  for (const c of KUBECTL_CASES) {
    it(`kubectl ${c.args.slice(0, 3).join(' ')} (${c.name})`, async () => {
      const serve: Record<string, unknown> = {};
      for (const [path, file] of Object.entries(c.serve ?? {})) serve[path] = JSON.parse(await readFile(new URL(file, testdata), 'utf8'));
      const { dryRun, request } = await recordCase(server, c.args, { serve, expected: c.expected, reply: c.reply, method: c.method });
      expect(request.contentType).toBe(PROTOBUF_MEDIA_TYPE);
      const decoded = decodeProtobufObject(request.body).object;
      const expected = dropEmpty(dryRun);
      for (const path of c.volatile ?? []) {
        expect(getPath(decoded, path)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        setPath(expected, path, getPath(decoded, path));
      }
      expect(decoded).toEqual(expected);
    });
  }

  it('kubectl run, expose, scale and delete send JSON, not protobuf', async () => {
    const deployment = JSON.parse(await readFile(new URL('deployment-simple.json', testdata), 'utf8')) as Record<string, unknown>;
    const seen: string[] = [];
    server.setReply((req) => {
      seen.push(`${req.method} ${req.contentType}`);
      if (req.method === 'GET') return { status: 200, body: deployment };
      return { status: req.method === 'POST' ? 201 : 200, body: deployment };
    });
    for (const args of [
      ['run', 'p', '--image=nginx', '-n', 'default'],
      ['expose', 'deployment', 'app', '--port=80', '-n', 'default'],
      ['scale', 'deployment', 'app', '--replicas=0', '-n', 'default'],
      ['delete', 'deployment', 'app', '-n', 'default', '--wait=false'],
    ]) {
      await server.kubectl(args);
    }
    const writes = seen.filter((s) => !s.startsWith('GET'));
    expect(writes).toEqual([
      'POST application/json',
      'POST application/json',
      'PATCH application/merge-patch+json',
      'DELETE application/json',
    ]);
  });
});
