// Counterpart of pkg/probe/probe.go and pkg/probe/util.go: a handler's outcome, and the container port a
// probe names (by number, or by the name of one of the container's ports).
import type { Container } from 'kubernetes-types/core/v1';

/** What a probe handler answers (upstream probe.Result): Warning counts as a success, with an event. */
export type HandlerResult = 'Success' | 'Warning' | 'Failure' | 'Unknown';

export interface HandlerOutcome {
  result: HandlerResult;
  /** The handler's output: the response body, the command's output, or why it failed. */
  output: string;
}

/** The port number of an intstr port: a number, a named container port, or a number written as a string. */
export function resolveContainerPort(port: number | string | undefined, container: Container): number {
  let n = -1;
  if (typeof port === 'number') n = port;
  else if (typeof port === 'string') {
    const named = (container.ports ?? []).find((p) => p.name === port);
    if (named) n = named.containerPort;
    else if (/^[+-]?\d+$/.test(port)) n = Number(port);
    else throw new Error(`port ${port} not found`);
  } else throw new Error(`intOrString had no kind: ${JSON.stringify(port)}`);
  if (n > 0 && n < 65536) return n;
  throw new Error(`invalid port number: ${n}`);
}

/** Go's net.JoinHostPort. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Go's net dial errors for Node's socket error codes (`dial tcp 10.0.0.1:80: connect: connection refused`). */
export function dialError(err: NodeJS.ErrnoException, addr: string): string {
  const why: Record<string, string> = {
    ECONNREFUSED: 'connect: connection refused',
    EHOSTUNREACH: 'connect: no route to host',
    ENETUNREACH: 'connect: network is unreachable',
    ECONNRESET: 'connection reset by peer',
    ETIMEDOUT: 'i/o timeout',
    EADDRNOTAVAIL: 'connect: cannot assign requested address',
  };
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return `dial tcp: lookup ${addr.replace(/:\d+$/, '')}: no such host`;
  return `dial tcp ${addr}: ${why[err.code ?? ''] ?? err.message}`;
}
