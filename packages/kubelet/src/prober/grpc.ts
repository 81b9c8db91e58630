// Counterpart of pkg/probe/grpc/grpc.go: the gRPC health checking protocol (grpc.health.v1.Health/Check)
// over plaintext, SERVING succeeds, anything else fails. The two messages are tiny, so they are encoded
// here rather than loaded from a .proto.
import * as grpc from '@grpc/grpc-js';
import { formatDuration } from '../kuberuntime/pod-actions.js';
import { PROBE_USER_AGENT } from './http.js';
import { joinHostPort, type HandlerOutcome } from './probe.js';

const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** HealthCheckRequest { string service = 1; } */
export function encodeHealthCheckRequest(service: string): Buffer {
  if (!service) return Buffer.alloc(0);
  const s = Buffer.from(service);
  return Buffer.concat([Buffer.from([0x0a, ...varint(s.length)]), s]);
}

/** HealthCheckResponse { ServingStatus status = 1; }: the status number (0 when absent). */
export function decodeHealthCheckResponse(buf: Buffer): number {
  let i = 0;
  let status = 0;
  const readVarint = () => {
    let n = 0;
    let shift = 0;
    for (;;) {
      const b = buf[i++] ?? 0;
      n += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(b & 0x80) || i >= buf.length) return n;
    }
  };
  while (i < buf.length) {
    const tag = readVarint();
    const wire = tag & 7;
    if (tag >>> 3 === 1 && wire === 0) status = readVarint();
    else if (wire === 0) readVarint();
    else if (wire === 2) i += readVarint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else break;
  }
  return status;
}

export async function doGRPCProbe(host: string, port: number, service: string, timeoutMs: number): Promise<HandlerOutcome> {
  const addr = joinHostPort(host, port);
  const timeout = formatDuration(timeoutMs);
  const deadline = Date.now() + timeoutMs;
  const client = new grpc.Client(addr, grpc.credentials.createInsecure(), { 'grpc.primary_user_agent': PROBE_USER_AGENT });
  try {
    const connected = await new Promise<Error | undefined>((resolve) => client.waitForReady(deadline, (err) => resolve(err ?? undefined)));
    if (connected) return { result: 'Failure', output: `timeout: failed to connect service ${JSON.stringify(addr)} within ${timeout}: context deadline exceeded` };
    const res = await new Promise<{ err?: grpc.ServiceError; status?: number }>((resolve) =>
      client.makeUnaryRequest(
        '/grpc.health.v1.Health/Check',
        encodeHealthCheckRequest,
        decodeHealthCheckResponse,
        service,
        new grpc.Metadata(),
        { deadline },
        (err, status) => resolve({ err: err ?? undefined, status }),
      ),
    );
    if (res.err) {
      if (res.err.code === grpc.status.UNIMPLEMENTED) {
        return { result: 'Failure', output: `timeout: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${res.err.details}\n` };
      }
      if (res.err.code === grpc.status.DEADLINE_EXCEEDED) return { result: 'Failure', output: `timeout: health rpc did not complete within ${timeout}` };
      const code = String(grpc.status[res.err.code] ?? res.err.code).toLowerCase().replace(/(^|_)([a-z])/g, (_m, _u: string, c: string) => c.toUpperCase());
      return { result: 'Failure', output: `error: health rpc probe failed: rpc error: code = ${code} desc = ${res.err.details}` };
    }
    if (res.status !== 1) return { result: 'Failure', output: `service unhealthy (responded with ${JSON.stringify(SERVING_STATUS[res.status ?? 0] ?? String(res.status))})` };
    return { result: 'Success', output: 'service healthy' };
  } finally {
    client.close();
  }
}
