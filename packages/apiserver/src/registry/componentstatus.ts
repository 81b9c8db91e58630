// GET /api/v1/componentstatuses[/NAME] (upstream pkg/registry/core/componentstatus/rest.go): deprecated
// upstream since v1.19 but still served, a Getter and Lister with no storage behind it. Each read
// probes the components: kube-scheduler and kube-controller-manager on their local secure ports
// (upstream probes https://127.0.0.1:10259/healthz and :10257/healthz without verifying the
// certificate) and every etcd server's /health, over TLS with the apiserver's etcd client certificate
// (--etcd-cafile, --etcd-certfile, --etcd-keyfile) when etcd serves https, as upstream does.
import https from 'node:https';
import http from 'node:http';
import { notFound, type KubeList, type KubeObject, type ResourceInfo } from '@kubelab/api';
import type { EtcdClientTLS } from '../storage/etcd.js';
import { restStorage, type Getter, type Lister } from './rest.js';

export const COMPONENT_STATUS_WARNING = 'v1 ComponentStatus is deprecated in v1.19+';

interface Probe {
  name: string;
  url: string;
  /** Whether a 200 body means healthy (etcd answers JSON with "health":"true"). */
  healthy(body: string): boolean;
  /** Client TLS (etcd): verifies the server with ca and presents cert/key. */
  tls?: EtcdClientTLS;
}

function get(url: string, timeoutMs: number, tls?: EtcdClientTLS): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const verify = tls ? { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: true } : { rejectUnauthorized: false };
    const req = mod.get(u, { ...verify, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`Get "${url}": context deadline exceeded`)));
    req.on('error', reject);
  });
}

function errorText(url: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ECONNREFUSED') return `Get "${url}": dial tcp ${new URL(url).host}: connect: connection refused`;
  return e.message?.startsWith('Get "') ? e.message : `Get "${url}": ${e.message}`;
}

async function probe(p: Probe, timeoutMs: number): Promise<KubeObject> {
  let condition: Record<string, string>;
  try {
    const r = await get(p.url, timeoutMs, p.tls);
    if (r.status === 200 && p.healthy(r.body)) condition = { type: 'Healthy', status: 'True', message: 'ok' };
    else condition = { type: 'Healthy', status: 'False', message: r.body.trim(), error: `unhealthy: ${r.status}` };
  } catch (err) {
    condition = { type: 'Healthy', status: 'False', error: errorText(p.url, err) };
  }
  return { apiVersion: 'v1', kind: 'ComponentStatus', metadata: { name: p.name }, conditions: [condition] };
}

export function componentProbes(etcdServers: string[], etcdTLS?: EtcdClientTLS): Probe[] {
  return [
    { name: 'scheduler', url: 'https://127.0.0.1:10259/healthz', healthy: (b) => b.trim() === 'ok' },
    { name: 'controller-manager', url: 'https://127.0.0.1:10257/healthz', healthy: (b) => b.trim() === 'ok' },
    ...etcdServers.map((server, i) => ({
      name: `etcd-${i}`,
      url: `${server.replace(/\/+$/, '')}/health`,
      healthy: (b: string) => /"health"\s*:\s*"true"/.test(b),
      tls: server.startsWith('https:') ? etcdTLS : undefined,
    })),
  ];
}

/** All component statuses (list), or one by name (undefined when there is no such component). */
export async function componentStatuses(
  etcdServers: string[],
  name?: string,
  opts: { timeoutMs?: number; etcdTLS?: EtcdClientTLS } = {},
): Promise<KubeList | KubeObject | undefined> {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const probes = componentProbes(etcdServers, opts.etcdTLS).filter((p) => !name || p.name === name);
  if (name) return probes.length ? probe(probes[0]!, timeoutMs) : undefined;
  const items = await Promise.all(probes.map((p) => probe(p, timeoutMs)));
  return { apiVersion: 'v1', kind: 'ComponentStatusList', metadata: {}, items };
}

/** The componentstatuses storage: every read probes. */
export function componentStatusREST(info: ResourceInfo, etcdServers: string[], etcdTLS?: EtcdClientTLS): Getter & Lister {
  const base = restStorage(info, undefined, { warning: COMPONENT_STATUS_WARNING });
  return {
    ...base,
    async get(_namespace, name) {
      const status = await componentStatuses(etcdServers, name, { etcdTLS });
      if (!status) throw notFound(base.gr, name);
      return status as KubeObject;
    },
    list: async () => (await componentStatuses(etcdServers, undefined, { etcdTLS })) as KubeList,
  };
}
