// The compose lab node's pod network agent (upstream: kind's kindnetd). From the Node objects, every 2 s:
//   - once this node has its spec.podCIDR, writes the CNI config (bridge + host-local on that CIDR, portmap) that
//     containerd's CRI plugin reads, and masquerades pod traffic leaving the cluster CIDR to the node's address;
//   - routes each other node's pod CIDR via that node's InternalIP, and removes routes (inside the cluster CIDR)
//     to nodes that are gone.
// Run by the node entrypoint (deploy/docker/node/entrypoint.sh), compiled to /app/node/node-agent.js by hack/compose.
// Environment: NODE_NAME, CLUSTER_CIDR, KUBECONFIG (a kubeconfig allowed to list nodes).
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { findResource, type KubeObject } from '@kubelab/api';
import { loadKubeconfig, RestClient } from '@kubelab/client';

const run = promisify(execFile);
const NODES = findResource('', 'v1', 'nodes')!;
const CNI_CONF = '/etc/cni/net.d/10-kubelab.conflist';
const INTERVAL_MS = 2000;

const nodeName = process.env.NODE_NAME ?? '';
const clusterCIDR = process.env.CLUSTER_CIDR ?? '10.245.0.0/16';
if (!nodeName) throw new Error('NODE_NAME is required');

interface NodeView {
  name: string;
  podCIDR?: string;
  internalIP?: string;
}

function view(node: KubeObject): NodeView {
  const spec = (node as { spec?: { podCIDR?: string } }).spec;
  const addresses = (node as { status?: { addresses?: { type: string; address: string }[] } }).status?.addresses ?? [];
  return {
    name: node.metadata?.name ?? '',
    podCIDR: spec?.podCIDR,
    internalIP: addresses.find((a) => a.type === 'InternalIP')?.address,
  };
}

const log = (msg: string) => console.log(`${new Date().toISOString()} node-agent: ${msg}`);

/** An IPv4 CIDR as [network, prefix length]. */
function parseCIDR(cidr: string): [number, number] {
  const [addr, bits] = cidr.split('/');
  const n = addr!.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  return [n, Number(bits)];
}

/** Whether `inner` lies inside `outer` (both IPv4 CIDRs). */
export function cidrContains(outer: string, inner: string): boolean {
  const [o, ob] = parseCIDR(outer);
  const [i, ib] = parseCIDR(inner);
  if (ib < ob) return false;
  const size = 2 ** (32 - ob);
  return Math.floor(o / size) === Math.floor(i / size);
}

export function cniConfig(podCIDR: string): string {
  const conf = {
    cniVersion: '1.0.0',
    name: 'kubelab',
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: podCIDR }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
  return `${JSON.stringify(conf, null, 2)}\n`;
}

let configuredCIDR = '';

async function ensurePodNetwork(podCIDR: string): Promise<void> {
  if (configuredCIDR === podCIDR) return;
  const text = cniConfig(podCIDR);
  let current = '';
  try {
    current = readFileSync(CNI_CONF, 'utf8');
  } catch {}
  if (current !== text) {
    mkdirSync('/etc/cni/net.d', { recursive: true });
    writeFileSync(`${CNI_CONF}.tmp`, text);
    renameSync(`${CNI_CONF}.tmp`, CNI_CONF);
    log(`pod CIDR ${podCIDR}: wrote ${CNI_CONF}`);
  }
  // Pods reach what is outside the pod network (the control plane, the registry) as the node's address.
  const rule = ['-s', podCIDR, '!', '-d', clusterCIDR, '-m', 'comment', '--comment', 'kubelab pod network', '-j', 'MASQUERADE'];
  try {
    await run('iptables', ['-t', 'nat', '-C', 'POSTROUTING', ...rule]);
  } catch {
    await run('iptables', ['-t', 'nat', '-A', 'POSTROUTING', ...rule]);
  }
  configuredCIDR = podCIDR;
}

/** Routes "<cidr> via <ip>" in the main table for destinations inside the cluster CIDR. */
async function currentRoutes(): Promise<Map<string, string>> {
  const { stdout } = await run('ip', ['-4', 'route', 'show']);
  const routes = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^(\d+\.\d+\.\d+\.\d+\/\d+) via (\d+\.\d+\.\d+\.\d+)/.exec(line);
    if (m && cidrContains(clusterCIDR, m[1]!)) routes.set(m[1]!, m[2]!);
  }
  return routes;
}

async function syncRoutes(nodes: NodeView[]): Promise<void> {
  const want = new Map<string, string>();
  for (const n of nodes) {
    if (n.name === nodeName || !n.podCIDR || !n.internalIP) continue;
    if (cidrContains(clusterCIDR, n.podCIDR)) want.set(n.podCIDR, n.internalIP);
  }
  const have = await currentRoutes();
  for (const [cidr, via] of want) {
    if (have.get(cidr) === via) continue;
    await run('ip', ['route', 'replace', cidr, 'via', via]);
    log(`route ${cidr} via ${via}`);
  }
  for (const cidr of have.keys()) {
    if (want.has(cidr)) continue;
    await run('ip', ['route', 'del', cidr]).catch(() => undefined);
    log(`route ${cidr} removed`);
  }
}

async function main(): Promise<void> {
  const client = new RestClient(loadKubeconfig(process.env.KUBECONFIG));
  let stopped = false;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      stopped = true;
      client.close();
      process.exit(0);
    });
  }
  log(`node ${nodeName}, cluster CIDR ${clusterCIDR}`);
  let lastError = '';
  while (!stopped) {
    try {
      const list = await client.resource(NODES).list();
      const nodes = list.items.map(view);
      const self = nodes.find((n) => n.name === nodeName);
      if (self?.podCIDR) await ensurePodNetwork(self.podCIDR);
      await syncRoutes(nodes);
      lastError = '';
    } catch (err) {
      const msg = String((err as Error).message ?? err);
      if (msg !== lastError) log(`sync failed: ${msg}`);
      lastError = msg;
    }
    await new Promise((r) => setTimeout(r, INTERVAL_MS));
  }
}

await main();
