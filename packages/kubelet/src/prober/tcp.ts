// Counterpart of pkg/probe/tcp/tcp.go: success when a TCP connection opens within the timeout.
import { connect } from 'node:net';
import { dialError, joinHostPort, type HandlerOutcome } from './probe.js';

export function doTCPProbe(host: string, port: number, timeoutMs: number): Promise<HandlerOutcome> {
  const addr = joinHostPort(host, port);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ result: 'Failure', output: `dial tcp ${addr}: i/o timeout` });
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ result: 'Success', output: '' });
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ result: 'Failure', output: dialError(err, addr) });
    });
  });
}
