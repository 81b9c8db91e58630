// Many hollow kubelets in one process (upstream runs one kubemark pod per hollow node; one Node.js process per
// node would cost ~50 MB each): each with its own identity, a system:node:<name> client certificate signed by the
// cluster CA (or obtained through TLS bootstrap with a bootstrap token), so that Node authorization and
// NodeRestriction apply to it as to a real node; its own REST client (a client certificate is per connection, so
// connections cannot be shared between nodes), informers, Lease and pod workers. Nodes start staggered.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadKubeconfig, RestClient, type RestConfig } from '@kubelab/client';
import { issueCertificate, type CertKeyPair, type Logger } from '@kubelab/component-base';
import { bootstrapClientCertificate } from '../certificate/bootstrap.js';
import { configFromFlags } from '../config.js';
import { createKubelet, newHeartbeatClient, type Kubelet } from '../kubelet.js';
import { hollowKubeletDeps } from './node.js';
import type { HollowImageService, HollowRuntimeService } from './runtime.js';

export interface HollowNode {
  name: string;
  nodeIP: string;
  kubelet: Kubelet;
  runtime: HollowRuntimeService;
  images: HollowImageService;
  client: RestClient;
  /** Its node status and Lease client (upstream's HeartbeatClient). */
  heartbeatClient: RestClient;
}

export interface HollowRunnerOptions {
  /** The apiserver's address and CA (its credentials are not used: each node has its own). */
  server: Pick<RestConfig, 'server' | 'ca' | 'tlsServerName' | 'insecureSkipTLSVerify'>;
  /** Signs each node's client certificate (the cluster CA: the controller-manager's --cluster-signing-*-file). */
  signer?: CertKeyPair;
  /** Or: each node joins with this bootstrap kubeconfig (a bootstrap token) and a CSR, as `kubelet --bootstrap-kubeconfig`. */
  bootstrapKubeconfig?: string;
  /** Node names are <prefix><index> (index from 0). */
  namePrefix: string;
  /** Where each node keeps its files (bootstrapped certificates); <rootDir>/<node>. */
  rootDir: string;
  /** Extra kubelet flags for every node (e.g. --max-pods, --node-labels, --register-with-taints). */
  kubeletFlags?: string[];
  /** The first node's InternalIP; the next ones follow (default 100.64.0.10: no traffic ever goes there). */
  firstNodeIP?: string;
  /** Pod IPs before a node's spec.podCIDR is known: a /24 per node from this /8../16 base (default 100.96.0.0). */
  fallbackPodCIDRBase?: string;
  /** Client-side rate limit per node (upstream kubelet: --kube-api-qps 50, --kube-api-burst 100). */
  qps?: number;
  burst?: number;
  logger: Logger;
}

const ipToInt = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const intToIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

export class HollowNodeRunner {
  private readonly nodes: HollowNode[] = [];
  private stopping = false;

  constructor(private readonly opts: HollowRunnerOptions) {
    if (!opts.signer && !opts.bootstrapKubeconfig) throw new Error('a hollow node needs an identity: a CA to sign it (signer) or a bootstrap kubeconfig');
  }

  /** The nodes started so far, in index order. */
  list(): readonly HollowNode[] {
    return this.nodes;
  }

  nodeName(index: number): string {
    return `${this.opts.namePrefix}${index}`;
  }

  private async credentials(name: string, dir: string): Promise<RestConfig> {
    const base: RestConfig = { ...this.opts.server, qps: this.opts.qps, burst: this.opts.burst, userAgent: `kubelet/${name} (hollow)` };
    if (this.opts.signer) {
      const pair = await issueCertificate(this.opts.signer, { commonName: `system:node:${name}`, organizations: ['system:nodes'], usage: 'client' });
      return { ...base, cert: pair.certPem, key: pair.keyPem };
    }
    const kubeconfigPath = join(dir, 'kubelet.conf');
    await bootstrapClientCertificate({
      kubeconfigPath, bootstrapKubeconfigPath: this.opts.bootstrapKubeconfig!, certDir: join(dir, 'pki'), nodeName: name, logger: this.opts.logger,
    });
    const own = loadKubeconfig(kubeconfigPath);
    return { ...base, cert: own.cert, key: own.key };
  }

  /** Starts node `index` (its identity, then its kubelet). */
  private async startNode(index: number): Promise<HollowNode> {
    const name = this.nodeName(index);
    const dir = join(this.opts.rootDir, name);
    mkdirSync(dir, { recursive: true });
    const nodeIP = intToIp(ipToInt(this.opts.firstNodeIP ?? '100.64.0.10') + index);
    const client = new RestClient(await this.credentials(name, dir));
    const config = configFromFlags([
      // The node's client is given to the kubelet: this path only names where the runner came from.
      `--kubeconfig=${this.opts.bootstrapKubeconfig ?? dir}`,
      `--hostname-override=${name}`,
      `--node-ip=${nodeIP}`,
      `--root-dir=${dir}`,
      `--kubelab-pod-logs-dir=${join(dir, 'pods')}`,
      '--resolv-conf=',
      '--healthz-port=0',
      '--kubelab-hollow',
      ...(this.opts.kubeletFlags ?? []),
    ]);
    const base = ipToInt(this.opts.fallbackPodCIDRBase ?? '100.96.0.0');
    const deps = hollowKubeletDeps(config, { fallbackCIDR: `${intToIp(base + index * 256)}/24` });
    const logger = this.opts.logger.child({ node: name });
    const heartbeatClient = newHeartbeatClient(client.config, config);
    const kubelet = createKubelet(config, { ...deps, client, heartbeatClient, logger });
    await kubelet.start();
    return { name, nodeIP, kubelet, runtime: deps.runtime, images: deps.images, client, heartbeatClient };
  }

  /**
   * Grows to `count` nodes, starting them `intervalMs` apart (staggered, as a fleet of real nodes would not all
   * register in the same millisecond) with at most `parallel` identities being made at once.
   */
  async scaleTo(count: number, intervalMs = 20, parallel = 8): Promise<void> {
    const pending = new Set<Promise<void>>();
    for (let i = this.nodes.length; i < count && !this.stopping; i++) {
      const p = this.startNode(i).then((n) => {
        this.nodes[i] = n;
      });
      const tracked = p.finally(() => pending.delete(tracked));
      pending.add(tracked);
      if (pending.size >= parallel) await Promise.race(pending);
      if (intervalMs > 0) await new Promise((r) => setTimeout(r, intervalMs));
    }
    await Promise.all(pending);
  }

  /** Stops every kubelet (their pods stay in the API, as when real kubelets stop). */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled(
      this.nodes.map(async (n) => {
        await n.kubelet.stop();
        n.client.close();
        n.heartbeatClient.close();
      }),
    );
  }
}
