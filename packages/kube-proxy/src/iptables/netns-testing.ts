// A throwaway "node" for tests that need real iptables: a network namespace with a veth pair into a
// second namespace (a "pod", 10.244.0.7) serving TCP on 8080. Names are unique per test process;
// remove() deletes both namespaces. Traffic stays inside the two namespaces.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { execCommand } from './iptables.js';

export const POD_IP = '10.244.0.7';
export const NODE_IP = '10.244.0.1';

async function sh(cmd: string, ...args: string[]): Promise<string> {
  const r = await execCommand(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

export interface TestNode {
  nodeNs: string;
  podNs: string;
  /** Runs a command in the node namespace; throws on a non-zero exit. */
  inNode(cmd: string, ...args: string[]): Promise<string>;
  /** Connects from the node namespace: the reply, "TIMEOUT" or the error code (ECONNREFUSED). */
  connect(host: string, port: number): Promise<string>;
  remove(): Promise<void>;
}

export async function createTestNode(prefix = 'kp'): Promise<TestNode> {
  const id = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  const nodeNs = `${prefix}-node-${id}`;
  const podNs = `${prefix}-pod-${id}`;
  const inNode = (cmd: string, ...args: string[]) => sh('nsenter', `--net=/run/netns/${nodeNs}`, cmd, ...args);
  const inPod = (cmd: string, ...args: string[]) => sh('nsenter', `--net=/run/netns/${podNs}`, cmd, ...args);
  let server: ChildProcess | undefined;
  const remove = async () => {
    if (server?.pid && server.exitCode === null) server.kill('SIGTERM');
    await execCommand('ip', ['netns', 'del', podNs]);
    await execCommand('ip', ['netns', 'del', nodeNs]);
  };
  try {
    await sh('ip', 'netns', 'add', nodeNs);
    await sh('ip', 'netns', 'add', podNs);
    await inNode('ip', 'link', 'set', 'lo', 'up');
    await inNode('ip', 'link', 'add', 'kpveth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', podNs);
    await inNode('ip', 'addr', 'add', `${NODE_IP}/24`, 'dev', 'kpveth0');
    await inNode('ip', 'link', 'set', 'kpveth0', 'up');
    // A node has a default route; a ClusterIP is routed by it until DNAT rewrites the destination.
    await inNode('ip', 'route', 'add', 'default', 'dev', 'kpveth0');
    await inPod('ip', 'link', 'set', 'lo', 'up');
    await inPod('ip', 'addr', 'add', `${POD_IP}/24`, 'dev', 'eth0');
    await inPod('ip', 'link', 'set', 'eth0', 'up');
    await inPod('ip', 'route', 'add', 'default', 'via', NODE_IP);
    const script = `require('net').createServer(s=>s.end('hello from pod')).listen(8080,'${POD_IP}',()=>console.log('up'))`;
    server = spawn('nsenter', [`--net=/run/netns/${podNs}`, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      server!.stdout!.once('data', () => resolve());
      server!.once('exit', (code) => reject(new Error(`pod server exited ${code}`)));
    });
  } catch (err) {
    await remove();
    throw err;
  }
  const connect = async (host: string, port: number) => {
    const probe = `const s=require('net').connect(${port},'${host}');let d='';s.setTimeout(3000,()=>{console.log('TIMEOUT');process.exit(0)});
s.on('data',b=>d+=b);s.on('end',()=>{console.log(d);process.exit(0)});s.on('error',e=>{console.log(e.code);process.exit(0)})`;
    return (await inNode(process.execPath, '-e', probe)).trim();
  };
  return { nodeNs, podNs, inNode, connect, remove };
}
