// The writer process of bench/watch-fanout.ts: writes objects at a fixed rate (due times on a schedule,
// not one after another), each stamped with its target, sequence number and send time.
import https from 'node:https';
import { STAMP_ANNOTATION, nowMs, stamp, type FromWriter, type ToWriter } from './protocol.js';

const IN_FLIGHT = 64;

function client(conn: { port: number; ca: string; cert: string; key: string }) {
  const agent = new https.Agent({ ca: conn.ca, cert: conn.cert, key: conn.key, keepAlive: true, maxSockets: IN_FLIGHT });
  const request = (method: string, path: string, body: unknown, contentType = 'application/json'): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const payload = JSON.stringify(body);
      const req = https.request(
        { host: '127.0.0.1', port: conn.port, method, path, agent, headers: { accept: 'application/json', 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  return { agent, request };
}

/** Runs write(i) for i < rate*seconds at its due time; at most IN_FLIGHT outstanding (late ones wait). */
async function paced(
  rate: number,
  seconds: number,
  write: (i: number) => Promise<boolean>,
): Promise<{ written: number; seconds: number; errors: number; writeMs: number[]; ackedAt: Array<number | null> }> {
  const total = Math.round(rate * seconds);
  const t0 = performance.now();
  let written = 0;
  let errors = 0;
  const writeMs: number[] = [];
  const ackedAt: Array<number | null> = new Array(total).fill(null);
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < total; i++) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
    const sent = performance.now();
    const p: Promise<void> = write(i).then(
      (ok) => {
        writeMs.push(performance.now() - sent);
        if (ok) {
          written++;
          ackedAt[i] = nowMs();
        }
        else errors++;
      },
      () => {
        errors++;
      },
    );
    const tracked = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  }
  await Promise.all(inFlight);
  return { written, seconds: (performance.now() - t0) / 1000, errors, writeMs, ackedAt };
}

process.on('message', async (msg: ToWriter) => {
  const { agent, request } = client(msg.conn);
  const perTarget: Record<string, number> = {};
  let firstError: string | undefined;
  const check = (target: string, r: { status: number; text: string }, want: number) => {
    if (r.status === want) {
      perTarget[target] = (perTarget[target] ?? 0) + 1;
      return true;
    }
    firstError ??= `HTTP ${r.status}: ${r.text.slice(0, 300)}`;
    return false;
  };
  let out: Awaited<ReturnType<typeof paced>>;
  if (msg.cmd === 'pods') {
    const pad = 'x'.repeat(msg.padBytes);
    out = await paced(msg.rate, msg.seconds, async (i) => {
      const node = `node-${i % msg.nodes}`;
      const annotations: Record<string, string> = { [STAMP_ANNOTATION]: stamp(node, i) };
      if (pad) annotations['bench.kubelab.io/padding'] = pad;
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `p-${i}-${Math.floor(nowMs())}`, namespace: msg.namespace, annotations },
        spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'] }] },
      };
      return check(node, await request('POST', `/api/v1/namespaces/${msg.namespace}/pods`, pod), 201);
    });
  } else {
    // Create the slices first (not timed, not stamped as updates), then update them round robin.
    const base = `/apis/discovery.k8s.io/v1/namespaces/${msg.namespace}/endpointslices`;
    for (let s = 0; s < msg.slices; s++) {
      const slice = {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `svc-${s}`, namespace: msg.namespace, labels: { 'kubernetes.io/service-name': `svc-${s}` } },
        addressType: 'IPv4',
        endpoints: [{ addresses: [`10.0.${s % 250}.1`], conditions: { ready: true } }],
        ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
      };
      const r = await request('POST', base, slice);
      if (r.status !== 201) firstError ??= `create slice: HTTP ${r.status}: ${r.text.slice(0, 300)}`;
    }
    out = await paced(msg.rate, msg.seconds, async (i) => {
      const name = `svc-${i % msg.slices}`;
      const patch = { metadata: { annotations: { [STAMP_ANNOTATION]: stamp('', i) } }, endpoints: [{ addresses: [`10.1.${(i >> 8) % 250}.${(i % 250) + 1}`], conditions: { ready: true } }] };
      return check('', await request('PATCH', `${base}/${name}`, patch, 'application/merge-patch+json'), 200);
    });
  }
  agent.destroy();
  const done: FromWriter = { ev: 'done', ...out, perTarget, firstError };
  process.send!(done);
  process.disconnect();
});
