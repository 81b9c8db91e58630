// The ingress controller's configuration, as flags with ingress-nginx's names (--ingress-class,
// --controller-class, --watch-ingress-without-class, --http-port, --https-port, --healthz-port,
// --publish-status-address, --update-status): defaults in one function, validated once and frozen.
// The pod's own name and namespace come from POD_NAME / POD_NAMESPACE (the downward API), as there.
import { isIP } from 'node:net';
import { isDNS1123Subdomain } from '@kubelab/api';
import { parseFlagSet, type FlagDefs, type ParsedFlags } from '@kubelab/component-base';

export interface IngressControllerConfig {
  /** Else the pod's service account (in-cluster config). */
  kubeconfig?: string;
  /** The IngressClass name this controller owns (and the legacy kubernetes.io/ingress.class value). */
  ingressClass: string;
  /** The IngressClass spec.controller value that selects this controller. */
  controllerClass: string;
  /** Also handle Ingresses that name no class (besides when our class is the default one). */
  watchIngressWithoutClass: boolean;
  bindAddress: string;
  httpPort: number;
  httpsPort: number;
  /** /healthz and /metrics. */
  healthzPort: number;
  /** Addresses to publish in Ingress status instead of the controller pods' node IPs. */
  publishStatusAddress: string[];
  updateStatus: boolean;
  /** This controller's pod (for the set of pods whose nodes are published); unset outside a cluster. */
  podName?: string;
  podNamespace?: string;
  /** How often the status is re-checked besides on changes (ms). */
  statusSyncPeriodMs: number;
}

export function defaults(): IngressControllerConfig {
  return {
    ingressClass: 'kubelab',
    controllerClass: 'kubelab.io/ingress-controller',
    watchIngressWithoutClass: false,
    bindAddress: '0.0.0.0',
    httpPort: 80,
    httpsPort: 443,
    healthzPort: 10254,
    publishStatusAddress: [],
    updateStatus: true,
    statusSyncPeriodMs: 60_000,
  };
}

export const FLAGS = {
  kubeconfig: { kind: 'string', usage: 'Path to a kubeconfig file; without it the pod service account (in-cluster config) is used.' },
  'ingress-class': { kind: 'string', usage: 'Name of the IngressClass this controller handles (default "kubelab").' },
  'controller-class': { kind: 'string', usage: 'The IngressClass spec.controller value of this controller (default "kubelab.io/ingress-controller").' },
  'watch-ingress-without-class': { kind: 'bool', usage: 'Also handle Ingresses without a class when the class is not the default one.' },
  'bind-address': { kind: 'string', usage: 'The IP address the HTTP, HTTPS and health servers listen on (default "0.0.0.0").' },
  'http-port': { kind: 'int32', usage: 'Port to use for servicing HTTP traffic (default 80).' },
  'https-port': { kind: 'int32', usage: 'Port to use for servicing HTTPS traffic (default 443).' },
  'healthz-port': { kind: 'int32', usage: 'Port to use for the healthz endpoint and /metrics (default 10254).' },
  'publish-status-address': { kind: 'string', usage: 'Comma-separated addresses to publish in Ingress status instead of the nodes the controller pods run on.' },
  'update-status': { kind: 'bool', usage: 'Update the load-balancer status of Ingress objects this controller satisfies (default true).' },
} as const satisfies FlagDefs;

export function completeConfig(f: ParsedFlags<typeof FLAGS>, env: NodeJS.ProcessEnv = {}): Readonly<IngressControllerConfig> {
  const d = defaults();
  return validate({
    ...d,
    kubeconfig: f.kubeconfig || undefined,
    ingressClass: f['ingress-class'] || d.ingressClass,
    controllerClass: f['controller-class'] || d.controllerClass,
    watchIngressWithoutClass: f['watch-ingress-without-class'] ?? d.watchIngressWithoutClass,
    bindAddress: f['bind-address'] || d.bindAddress,
    httpPort: f['http-port'] ?? d.httpPort,
    httpsPort: f['https-port'] ?? d.httpsPort,
    healthzPort: f['healthz-port'] ?? d.healthzPort,
    publishStatusAddress: (f['publish-status-address'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    updateStatus: f['update-status'] ?? d.updateStatus,
    podName: env.POD_NAME || undefined,
    podNamespace: env.POD_NAMESPACE || undefined,
  });
}

export function configFromFlags(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Readonly<IngressControllerConfig> {
  return completeConfig(parseFlagSet(argv, FLAGS).flags, env);
}

export function validate(c: IngressControllerConfig): Readonly<IngressControllerConfig> {
  const errs: string[] = [];
  if (isDNS1123Subdomain(c.ingressClass).length) errs.push(`--ingress-class ${JSON.stringify(c.ingressClass)} must be a DNS subdomain`);
  if (!/^[a-z0-9.-]+\/\S+$/.test(c.controllerClass)) errs.push(`--controller-class ${JSON.stringify(c.controllerClass)} must be a domain-prefixed path (such as "acme.io/foo")`);
  if (!isIP(c.bindAddress)) errs.push(`--bind-address ${JSON.stringify(c.bindAddress)} must be an IP address`);
  for (const [flag, p] of [['http-port', c.httpPort], ['https-port', c.httpsPort], ['healthz-port', c.healthzPort]] as const) {
    if (!(Number.isInteger(p) && p >= 0 && p <= 65535)) errs.push(`--${flag} ${p} must be between 0 and 65535, inclusive`);
  }
  for (const a of c.publishStatusAddress) if (!isIP(a) && isDNS1123Subdomain(a).length) errs.push(`--publish-status-address ${JSON.stringify(a)} must be an IP address or a DNS name`);
  if (errs.length) throw new Error(errs.join('; '));
  return Object.freeze({ ...c, publishStatusAddress: Object.freeze([...c.publishStatusAddress]) as string[] });
}
