// createKubeProxy(config).start(): client and informers, the iptables proxier, /healthz on
// --healthz-bind-address and /metrics on --metrics-bind-address (upstream's cmd/kube-proxy/app/server.go).
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { findResource, type KubeObject } from '@kubelab/api';
import { loadKubeconfig, realClock, RestClient, SharedInformerFactory, type Clock, type Informer } from '@kubelab/client';
import { createLogger, type Component, type Logger } from '@kubelab/component-base';
import { masqueradeMark, splitHostPort, type KubeProxyConfig } from './config.js';
import { ExecConntrack, type Conntrack } from './conntrack.js';
import { ProxyHealthServer } from './healthcheck.js';
import { ExecIPTables, type IPTables } from './iptables/iptables.js';
import { ProxyMetrics } from './metrics.js';
import { Proxier } from './proxier.js';

/** Services and slices that another proxy implementation owns, or headless ones, are not watched (upstream's label selector). */
export const SERVICE_PROXY_NAME_LABEL = 'service.kubernetes.io/service-proxy-name';
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';

export interface KubeProxyOptions {
  client?: RestClient;
  iptables?: IPTables;
  conntrack?: Conntrack;
  logger?: Logger;
  clock?: Clock;
  /** Reads and writes /proc/sys (replaced in tests). */
  sysctl?: { get(name: string): number | undefined; set(name: string, value: number): void };
}

export interface KubeProxy extends Component {
  readonly proxier: Proxier;
  readonly metrics: ProxyMetrics;
  readonly health: ProxyHealthServer;
  /** Bound ports after start (undefined when that server is off). */
  healthzPort(): number | undefined;
  metricsPort(): number | undefined;
}

const procSysctl = {
  get(name: string): number | undefined {
    try {
      return Number(readFileSync(`/proc/sys/${name}`, 'utf8').trim());
    } catch {
      return undefined;
    }
  },
  set(name: string, value: number): void {
    writeFileSync(`/proc/sys/${name}`, String(value));
  },
};

export function createKubeProxy(config: Readonly<KubeProxyConfig>, opts: KubeProxyOptions = {}): KubeProxy {
  const logger = opts.logger ?? createLogger('kube-proxy');
  const clock = opts.clock ?? realClock;
  const sysctl = opts.sysctl ?? procSysctl;
  const client =
    opts.client ??
    (() => {
      const rc = loadKubeconfig(config.kubeconfig);
      return new RestClient({ ...rc, server: config.master ?? rc.server, userAgent: 'kube-proxy' });
    })();
  const informers = new SharedInformerFactory(client, { logger, clock, resyncPeriodMs: config.configSyncPeriodMs });
  const serviceInformer = informers.forResource(findResource('', 'v1', 'services')!, { labelSelector: `!${SERVICE_PROXY_NAME_LABEL},!${HEADLESS_LABEL}` });
  const endpointSliceInformer = informers.forResource(findResource('discovery.k8s.io', 'v1', 'endpointslices')!, {
    labelSelector: `!${SERVICE_PROXY_NAME_LABEL},!${HEADLESS_LABEL}`,
  });
  const nodeInformer = informers.forResource(findResource('', 'v1', 'nodes')!, { fieldSelector: `metadata.name=${config.hostnameOverride}` });

  // NodePorts on 127.0.0.0/8 only when --nodeport-addresses (if any) includes loopback.
  const localhostNodePorts =
    config.localhostNodePorts && (config.nodePortAddresses.length === 0 || config.nodePortAddresses.some((c) => c !== 'primary' && cidrHasLoopback(c)));
  const conntrackTCPLiberal = (sysctl.get('net/netfilter/nf_conntrack_tcp_be_liberal') ?? 0) !== 0;

  const metrics = new ProxyMetrics();
  const health = new ProxyHealthServer(2 * config.iptablesSyncPeriodMs, clock, metrics);
  const proxier = new Proxier({
    serviceInformer: serviceInformer as Informer<KubeObject>,
    endpointSliceInformer: endpointSliceInformer as Informer<KubeObject>,
    nodeInformer: nodeInformer as Informer<KubeObject>,
    iptables: opts.iptables ?? new ExecIPTables(),
    conntrack: opts.conntrack ?? new ExecConntrack(),
    nodeName: config.hostnameOverride,
    rules: {
      clusterCIDR: config.clusterCIDR,
      masqueradeAll: config.masqueradeAll,
      masqueradeMark: masqueradeMark(config.masqueradeBit),
      localhostNodePorts,
      conntrackTCPLiberal,
    },
    nodePortAddresses: config.nodePortAddresses,
    minSyncPeriodMs: config.iptablesMinSyncPeriodMs,
    syncPeriodMs: config.iptablesSyncPeriodMs,
    clock,
    logger: logger.child({ component: 'proxier' }),
    metrics,
    health,
  });

  let healthzServer: http.Server | undefined;
  let metricsServer: http.Server | undefined;
  const abort = new AbortController();
  let running: Promise<boolean> | undefined;

  const listen = async (addr: string, routes: Record<string, http.RequestListener>): Promise<http.Server | undefined> => {
    const hp = splitHostPort(addr);
    if (!hp) return undefined;
    const server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
      if (!route) {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
        res.end('404 page not found\n');
        return;
      }
      route(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(hp.port, hp.host || undefined, () => resolve());
    });
    return server;
  };

  return {
    proxier,
    metrics,
    health,
    healthzPort: () => (healthzServer?.address() as AddressInfo | null)?.port,
    metricsPort: () => (metricsServer?.address() as AddressInfo | null)?.port,
    async start() {
      if (localhostNodePorts) {
        // NodePorts on localhost need route_localnet; KUBE-FIREWALL drops martians it would let in.
        try {
          if (sysctl.get('net/ipv4/conf/all/route_localnet') !== 1) sysctl.set('net/ipv4/conf/all/route_localnet', 1);
        } catch (err) {
          logger.error({ err }, 'Failed to set sysctl net/ipv4/conf/all/route_localnet=1');
        }
      }
      healthzServer = await listen(config.healthzBindAddress, { '/healthz': health.healthz, '/livez': health.livez });
      metricsServer = await listen(config.metricsBindAddress, {
        '/metrics': (_req, res) => {
          void metrics.registry.metrics().then((text) => {
            res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
            res.end(text);
          });
        },
        '/healthz': (_req, res) => {
          res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
          res.end('ok');
        },
        '/proxyMode': (_req, res) => {
          res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
          res.end(config.proxyMode);
        },
      });
      logger.info({ node: config.hostnameOverride, mode: config.proxyMode, healthz: config.healthzBindAddress, metrics: config.metricsBindAddress }, 'Starting kube-proxy');
      informers.start();
      running = proxier.run(abort.signal);
    },
    async stop() {
      abort.abort();
      await running;
      await proxier.stop();
      await informers.shutdown();
      await Promise.all([healthzServer, metricsServer].map((s) => s && new Promise<void>((r) => s.close(() => r()))));
      client.close();
    },
  };
}

function cidrHasLoopback(cidr: string): boolean {
  const [ip, bits] = cidr.split('/');
  const first = Number(ip?.split('.')[0]);
  return first === 127 || Number(bits) === 0;
}
