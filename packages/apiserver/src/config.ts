// The apiserver's configuration: flags with upstream's names, defaults in one place, validated once
// and frozen.
import { readFileSync } from 'node:fs';
import { parseDuration, parseFlags } from '@kubelab/component-base';
import { parseCidr } from './allocator/cidr.js';
import { parsePortRange } from './allocator/allocator.js';
import { SUPPORTED_AUTHORIZATION_MODES } from './auth/modes.js';

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
  /** --token-auth-file: CSV of token,user,uid,"group1,group2". */
  tokenAuthFile?: string;
  /** --service-account-key-file: public keys that verify service account tokens. */
  serviceAccountKeyFiles: string[];
  /** --service-account-signing-key-file: the private key that signs them. */
  serviceAccountSigningKeyFile?: string;
  /** --service-account-issuer. */
  serviceAccountIssuer: string;
  /** --api-audiences (default: the issuer). */
  apiAudiences: string[];
  enableBootstrapTokenAuth: boolean;
  anonymousAuth: boolean;
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
    tokenAuthFile: undefined,
    serviceAccountKeyFiles: [],
    serviceAccountSigningKeyFile: undefined,
    serviceAccountIssuer: 'https://kubernetes.default.svc.cluster.local',
    apiAudiences: [],
    enableBootstrapTokenAuth: false,
    anonymousAuth: true,
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
  'token-auth-file': { type: 'string' },
  'service-account-key-file': { type: 'string', multiple: true },
  'service-account-signing-key-file': { type: 'string' },
  'service-account-issuer': { type: 'string' },
  'api-audiences': { type: 'string' },
  'enable-bootstrap-token-auth': { type: 'string' },
  'anonymous-auth': { type: 'string' },
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
  if (f['token-auth-file']) c.tokenAuthFile = f['token-auth-file'];
  const saKeys = f['service-account-key-file'] as unknown as string[] | undefined;
  if (saKeys?.length) c.serviceAccountKeyFiles = saKeys.flatMap(list);
  if (f['service-account-signing-key-file']) c.serviceAccountSigningKeyFile = f['service-account-signing-key-file'];
  if (f['service-account-issuer']) c.serviceAccountIssuer = f['service-account-issuer'];
  if (f['api-audiences']) c.apiAudiences = list(f['api-audiences']);
  if (f['enable-bootstrap-token-auth'] !== undefined) c.enableBootstrapTokenAuth = f['enable-bootstrap-token-auth'] !== 'false';
  if (f['anonymous-auth'] !== undefined) c.anonymousAuth = f['anonymous-auth'] !== 'false';
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
  for (const m of c.authorizationMode) {
    if (!SUPPORTED_AUTHORIZATION_MODES.includes(m)) problems.push(`--authorization-mode: ${m} is not supported (supported: ${SUPPORTED_AUTHORIZATION_MODES.join(', ')})`);
  }
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
