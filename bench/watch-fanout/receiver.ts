// A watch receiver process for bench/watch-fanout.ts: holds many watch connections (node:https), counts
// events by scanning each chunk for newlines and reading the writer's stamp with a regex (no JSON parse),
// and records delivery latencies and exactly-once bookkeeping per watch. Driven over the IPC channel.
import https from 'node:https';
import type { IncomingMessage, ClientRequest } from 'node:http';
import { REVISION_RE, STAMP_RE, nowMs, type FromReceiver, type ToReceiver, type WatchResult, type WatchSpec } from './protocol.js';

const OPEN_IN_FLIGHT = 32;

interface Watch {
  spec: WatchSpec;
  req?: ClientRequest;
  res?: IncomingMessage;
  seen: Set<number>;
  result: WatchResult;
  rest: string;
}

const watches: Watch[] = [];
const latencies: number[] = [];
const seqs: number[] = [];
const revisions: number[] = [];
const receivedAt: number[] = [];
let total = 0;
let agent: https.Agent | undefined;

function send(msg: FromReceiver): void {
  process.send!(msg);
}

function onChunk(w: Watch, chunk: string): void {
  const now = nowMs();
  let text = w.rest + chunk;
  let start = 0;
  for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
    const line = text.slice(start, nl);
    start = nl + 1;
    if (!line.startsWith(`{"type":"${w.spec.eventType}"`)) continue;
    const m = STAMP_RE.exec(line);
    if (!m) continue;
    const seq = Number(m[2]);
    if (w.spec.target && m[1] !== w.spec.target) w.result.misdelivered++;
    if (w.seen.has(seq)) {
      w.result.duplicates++;
      continue;
    }
    w.seen.add(seq);
    w.result.events++;
    total++;
    if (!w.spec.slow) {
      latencies.push(now - Number(m[3]));
      seqs.push(seq);
      revisions.push(Number(REVISION_RE.exec(line)?.[1] ?? Number.NaN));
      receivedAt.push(now);
    }
  }
  text = text.slice(start);
  w.rest = text;
}

function open(w: Watch, conn: { port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: conn.port, method: 'GET', path: w.spec.path, agent }, (res) => {
      w.res = res;
      if (res.statusCode !== 200) {
        reject(new Error(`watch ${w.spec.path}: HTTP ${res.statusCode}`));
        res.resume();
        return;
      }
      res.once('end', () => {
        w.result.ended = true;
      });
      res.once('error', () => {
        w.result.ended = true;
      });
      if (!w.spec.slow) {
        res.setEncoding('utf8');
        res.on('data', (c: string) => onChunk(w, c));
      }
      resolve();
    });
    req.on('error', (err) => {
      w.result.ended = true;
      reject(err);
    });
    req.end();
    w.req = req;
  });
}

process.on('message', async (msg: ToReceiver) => {
  switch (msg.cmd) {
    case 'open': {
      agent = new https.Agent({ ca: msg.conn.ca, cert: msg.conn.cert, key: msg.conn.key, keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
      const batch = msg.watches.map<Watch>((spec) => ({
        spec,
        seen: new Set(),
        rest: '',
        result: { target: spec.target, slow: !!spec.slow, events: 0, duplicates: 0, misdelivered: 0, ended: false },
      }));
      watches.push(...batch);
      let next = 0;
      let failed = 0;
      let error: string | undefined;
      await Promise.all(
        Array.from({ length: Math.min(OPEN_IN_FLIGHT, batch.length) }, async () => {
          while (next < batch.length) {
            const w = batch[next++]!;
            await open(w, msg.conn).catch((err: Error) => {
              failed++;
              error ??= err.message;
            });
          }
        }),
      );
      send({ ev: 'opened', watches: batch.length - failed, failed, error });
      break;
    }
    case 'count':
      send({ ev: 'count', events: total });
      break;
    case 'resume-slow': {
      // The slow watchers read again: what the server still had for them arrives, then (if it cut
      // them off) the end of the response.
      const slow = watches.filter((w) => w.spec.slow && w.res);
      for (const w of slow) {
        w.res!.setEncoding('utf8');
        w.res!.on('data', (c: string) => onChunk(w, c));
      }
      const deadline = Date.now() + msg.waitMs;
      while (Date.now() < deadline && slow.some((w) => !w.result.ended)) await new Promise((r) => setTimeout(r, 50));
      send({ ev: 'resumed' });
      break;
    }
    case 'report':
      send({ ev: 'report', latencies, seqs, revisions, receivedAt, watches: watches.map((w) => w.result) });
      break;
    case 'close':
      for (const w of watches) w.req?.destroy();
      agent?.destroy();
      process.disconnect();
      break;
  }
});
