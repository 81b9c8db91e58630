// The apiserver's configuration: flags with upstream's names, defaults in one place, validated once
// and frozen.
import { readFileSync } from 'node:fs';
import { parseDuration, parseFlags } from '@kubelab/component-base';
import { parseCidr } from './allocator/cidr.js';
import { parsePortRange } from './allocator/allocator.js';

export interface ApiServerConfig {
  etcdServers: string[];
  bindAddress: string;
  securePort: number;
  advertiseAddress: string;
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
  clientCAFile?: string;
  serviceClusterIPRange: string;
  serviceNodePortRange: string;
  authorizationMode: string[];
  enableAdmissionPlugins: string[];
  disableAdmissionPlugins: string[];
  watchCache: boolean;
  etcdCompactionIntervalMs: number;
  minRequestTimeoutSeconds: number;
  /** Interval of watch BOOKMARK events (upstream: about a minute). */
  bookmarkIntervalMs: number;
  maxRequestBodyBytes: number;
}

export function defaults(): ApiServerConfig {
  return {
    etcdServers: ['http://127.0.0.1:2379'],
    bindAddress: '0.0.0.0',
    securePort: 6443,
    advertiseAddress: '',
    tlsCertFile: '',
    tlsPrivateKeyFile: '',
    clientCAFile: undefined,
    serviceClusterIPRange: '10.96.0.0/12',
    serviceNodePortRange: '30000-32767',
    authorizationMode: ['AlwaysAllow'],
    enableAdmissionPlugins: [],
    disableAdmissionPlugins: [],
    watchCache: true,
    etcdCompactionIntervalMs: 5 * 60_000,
    minRequestTimeoutSeconds: 1800,
    bookmarkIntervalMs: 60_000,
    // Upstream accepts at most 3 MiB in a request body.
    maxRequestBodyBytes: 3 * 1024 * 1024,
  };
}

const FLAGS = {
  'etcd-servers': { type: 'string' },
  'bind-address': { type: 'string' },
  'secure-port': { type: 'string' },
  'advertise-address': { type: 'string' },
  'tls-cert-file': { type: 'string' },
  'tls-private-key-file': { type: 'string' },
  'client-ca-file': { type: 'string' },
  'service-cluster-ip-range': { type: 'string' },
  'service-node-port-range': { type: 'string' },
  'authorization-mode': { type: 'string' },
  'enable-admission-plugins': { type: 'string' },
  'disable-admission-plugins': { type: 'string' },
  'watch-cache': { type: 'string' },
  'etcd-compaction-interval': { type: 'string' },
  'min-request-timeout': { type: 'string' },
  'watch-bookmark-interval': { type: 'string' },
} as const;

const list = (s: string | undefined) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : []);

export function configFromFlags(argv: string[]): ApiServerConfig {
  const f = parseFlags(argv, FLAGS);
  const c = defaults();
  if (f['etcd-servers']) c.etcdServers = list(f['etcd-servers']);
  if (f['bind-address']) c.bindAddress = f['bind-address'];
  if (f['secure-port']) c.securePort = Number(f['secure-port']);
  if (f['advertise-address']) c.advertiseAddress = f['advertise-address'];
  if (f['tls-cert-file']) c.tlsCertFile = f['tls-cert-file'];
  if (f['tls-private-key-file']) c.tlsPrivateKeyFile = f['tls-private-key-file'];
  if (f['client-ca-file']) c.clientCAFile = f['client-ca-file'];
  if (f['service-cluster-ip-range']) c.serviceClusterIPRange = f['service-cluster-ip-range'];
  if (f['service-node-port-range']) c.serviceNodePortRange = f['service-node-port-range'];
  if (f['authorization-mode']) c.authorizationMode = list(f['authorization-mode']);
  if (f['enable-admission-plugins']) c.enableAdmissionPlugins = list(f['enable-admission-plugins']);
  if (f['disable-admission-plugins']) c.disableAdmissionPlugins = list(f['disable-admission-plugins']);
  if (f['watch-cache']) c.watchCache = f['watch-cache'] !== 'false';
  if (f['etcd-compaction-interval']) c.etcdCompactionIntervalMs = parseDuration(f['etcd-compaction-interval']);
  if (f['min-request-timeout']) c.minRequestTimeoutSeconds = Number(f['min-request-timeout']);
  if (f['watch-bookmark-interval']) c.bookmarkIntervalMs = parseDuration(f['watch-bookmark-interval']);
  return validate(c);
}

export function validate(c: ApiServerConfig): ApiServerConfig {
  const problems: string[] = [];
  if (!c.etcdServers.length) problems.push('--etcd-servers must be specified');
  if (!Number.isInteger(c.securePort) || c.securePort < 0 || c.securePort > 65535) problems.push(`--secure-port ${c.securePort} must be between 0 and 65535`);
  if (!c.tlsCertFile || !c.tlsPrivateKeyFile) problems.push('--tls-cert-file and --tls-private-key-file are required (generate them with `npm run pki -- init`)');
  try {
    parseCidr(c.serviceClusterIPRange);
  } catch (err) {
    problems.push(`--service-cluster-ip-range: ${(err as Error).message}`);
  }
  try {
    parsePortRange(c.serviceNodePortRange);
  } catch (err) {
    problems.push(`--service-node-port-range: ${(err as Error).message}`);
  }
  for (const m of c.authorizationMode) if (m !== 'AlwaysAllow') problems.push(`--authorization-mode: ${m} is not implemented yet (supported: AlwaysAllow)`);
  if (problems.length) throw new Error(problems.join('; '));
  return Object.freeze({ ...c });
}

export function readTLS(c: ApiServerConfig): { cert: Buffer; key: Buffer; ca?: Buffer } {
  return {
    cert: readFileSync(c.tlsCertFile),
    key: readFileSync(c.tlsPrivateKeyFile),
    ca: c.clientCAFile ? readFileSync(c.clientCAFile) : undefined,
  };
}
