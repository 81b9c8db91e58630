// Re-records testdata/ from the kubectl on PATH: `npx tsx packages/apiserver/src/endpoints/protobuf/record-fixtures.ts`.
// For each case it saves the protobuf body kubectl POSTs (<name>.pb) and its dry-run JSON (<name>.json).
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { recordCase, startCaptureServer, writeCaseFiles } from './kubectl-capture.js';
import { KUBECTL_CASES } from './kubectl-cases.js';
import { decodeProtobufObject } from './decode.js';
import { getPath, setPath } from './test-normalize.js';

const dir = fileURLToPath(new URL('./testdata/', import.meta.url));
const server = await startCaptureServer();
try {
  await writeCaseFiles(server.dir);
  for (const c of KUBECTL_CASES) {
    const serve: Record<string, unknown> = {};
    for (const [path, file] of Object.entries(c.serve ?? {})) serve[path] = JSON.parse(await readFile(`${dir}${file}`, 'utf8'));
    const { dryRun, request } = await recordCase(server, c.args, { serve, expected: c.expected, reply: c.reply, method: c.method });
    // Volatile values (timestamps) are stored as recorded so the unit test can compare exactly.
    const expected = structuredClone(dryRun);
    for (const path of c.volatile ?? []) setPath(expected, path, getPath(decodeProtobufObject(request.body).object, path));
    if (!request.contentType.startsWith('application/vnd.kubernetes.protobuf')) {
      console.warn(`${c.name}: kubectl sent ${request.contentType}, not protobuf; skipped`);
      continue;
    }
    await writeFile(`${dir}${c.name}.pb`, request.body);
    await writeFile(`${dir}${c.name}.json`, `${JSON.stringify(expected, null, 2)}\n`);
    console.log(`${c.name}: ${request.method} ${request.url.split('?')[0]} ${request.body.length} bytes`);
  }
} finally {
  await server.close();
}
