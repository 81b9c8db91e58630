// The apiserver's configuration: flags with upstream's names, defaults in one place, validated once
// and frozen.
import { readFileSync } from 'node:fs';
import { parseFlagSet, type FlagDefs, type ParsedFlags } from '@kubelab/component-base';
import { parseCidr } from './allocator/cidr.js';
import { parsePortRange } from './allocator/allocator.js';
import { SUPPORTED_AUTHORIZATION_MODES } from './auth/modes.js';
import { loadEncryptionConfiguration } from './storage/encryption/config.js';
import type { EtcdClientTLS, EtcdStorageOptions } from './storage/etcd.js';
import type { KubeletClientConfig } from './registry/kubelet-client.js';

export interface ApiServerConfig {
  etcdServers: string[];
  /** --etcd-cafile, --etcd-certfile, --etcd-keyfile: TLS towards etcd (https:// servers). */
  etcdCAFile?: string;
  etcdCertFile?: string;
  etcdKeyFile?: string;
  /** --encryption-provider-config: an EncryptionConfiguration for encryption at rest. */
  encryptionProviderConfig?: string;
  bindAddress: string;
  securePort: number;
  advertiseAddress: string;
  tlsCertFile: string;
  tlsPrivateKeyFile: string;
  clientCAFile?: string;
  /** --kubelet-client-certificate, --kubelet-client-key: the apiserver's identity towards kubelets (logs, exec, attach). */
  kubeletClientCertificate?: string;
  kubeletClientKey?: string;
  /** --kubelet-certificate-authority: verifies the kubelets' serving certificates (not verified without it, as upstream). */
  kubeletCertificateAuthority?: string;
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
  // Request limits and graceful shutdown (upstream's ServerRunOptions and SecureServingInfo).
  /** --max-requests-inflight: read-only requests in flight at once (0: no limit). */
  maxRequestsInflight: number;
  /** --max-mutating-requests-inflight: mutating requests in flight at once (0: no limit). */
  maxMutatingRequestsInflight: number;
  /** --request-timeout: bound on a non-long-running request, answered 504 when exceeded (0: none). */
  requestTimeoutMs: number;
  /** --shutdown-delay-duration: keep serving (with /readyz failing) this long after SIGTERM. */
  shutdownDelayMs: number;
  /** --shutdown-watch-termination-grace-period: spread the ending of open watches over this long. */
  shutdownWatchTerminationGracePeriodMs: number;
  /** TLS handshake and request headers must arrive within this (upstream's ReadHeaderTimeout, 32 s; lab flag --read-header-timeout). */
  readHeaderTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (upstream's IdleTimeout, 90 s). */
  idleConnectionTimeoutMs: number;
}

export function defaults(): ApiServerConfig {
  return {
    etcdServers: ['http://127.0.0.1:2379'],
    etcdCAFile: undefined,
    etcdCertFile: undefined,
    etcdKeyFile: undefined,
    encryptionProviderConfig: undefined,
    bindAddress: '0.0.0.0',
    securePort: 6443,
    advertiseAddress: '',
    tlsCertFile: '',
    tlsPrivateKeyFile: '',
    clientCAFile: undefined,
    kubeletClientCertificate: undefined,
    kubeletClientKey: undefined,
    kubeletCertificateAuthority: undefined,
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
    maxRequestsInflight: 400,
    maxMutatingRequestsInflight: 200,
    requestTimeoutMs: 60_000,
    shutdownDelayMs: 0,
    shutdownWatchTerminationGracePeriodMs: 0,
    readHeaderTimeoutMs: 32_000,
    idleConnectionTimeoutMs: 90_000,
  };
}

/** Upstream's flags with their types (pflag syntax). */
export const FLAGS = {
  'etcd-servers': { kind: 'stringSlice', usage: 'List of etcd servers to connect with (scheme://ip:port), comma separated.' },
  'etcd-cafile': { kind: 'string', usage: 'SSL Certificate Authority file used to secure etcd communication.' },
  'etcd-certfile': { kind: 'string', usage: 'SSL certification file used to secure etcd communication.' },
  'etcd-keyfile': { kind: 'string', usage: 'SSL key file used to secure etcd communication.' },
  'encryption-provider-config': { kind: 'string', usage: 'The file containing configuration for encryption providers to be used for storing secrets in etcd.' },
  'bind-address': { kind: 'string' },
  'secure-port': { kind: 'int32', usage: 'The port on which to serve HTTPS with authentication and authorization.' },
  'advertise-address': { kind: 'string' },
  'tls-cert-file': { kind: 'string' },
  'tls-private-key-file': { kind: 'string' },
  'client-ca-file': { kind: 'string' },
  'kubelet-client-certificate': { kind: 'string', usage: 'Path to a client cert file for TLS.' },
  'kubelet-client-key': { kind: 'string', usage: 'Path to a client key file for TLS.' },
  'kubelet-certificate-authority': { kind: 'string', usage: 'Path to a cert file for the certificate authority.' },
  'service-cluster-ip-range': { kind: 'string' },
  'service-node-port-range': { kind: 'string' },
  'authorization-mode': { kind: 'stringSlice', usage: 'Ordered list of plug-ins to do authorization on secure port: AlwaysAllow, AlwaysDeny, Node, RBAC.' },
  'enable-admission-plugins': { kind: 'stringSlice' },
  'disable-admission-plugins': { kind: 'stringSlice' },
  'watch-cache': { kind: 'bool' },
  'etcd-compaction-interval': { kind: 'duration' },
  'min-request-timeout': { kind: 'int' },
  'watch-bookmark-interval': { kind: 'duration' },
  'token-auth-file': { kind: 'string' },
  'service-account-key-file': { kind: 'stringSlice' },
  'service-account-signing-key-file': { kind: 'string' },
  'service-account-issuer': { kind: 'string' },
  'api-audiences': { kind: 'stringSlice' },
  'enable-bootstrap-token-auth': { kind: 'bool' },
  'anonymous-auth': { kind: 'bool' },
  'max-requests-inflight': { kind: 'int' },
  'max-mutating-requests-inflight': { kind: 'int' },
  'request-timeout': { kind: 'duration' },
  'shutdown-delay-duration': { kind: 'duration' },
  'shutdown-watch-termination-grace-period': { kind: 'duration' },
  'read-header-timeout': { kind: 'duration' },
} as const satisfies FlagDefs;

/** Parsed flags over the defaults, validated and frozen. */
export function completeConfig(f: ParsedFlags<typeof FLAGS>): Readonly<ApiServerConfig> {
  const d = defaults();
  const nonEmpty = (l: string[] | undefined) => l?.filter(Boolean);
  return validate({
    ...d,
    etcdServers: nonEmpty(f['etcd-servers']) ?? d.etcdServers,
    etcdCAFile: f['etcd-cafile'] || undefined,
    etcdCertFile: f['etcd-certfile'] || undefined,
    etcdKeyFile: f['etcd-keyfile'] || undefined,
    encryptionProviderConfig: f['encryption-provider-config'] || undefined,
    bindAddress: f['bind-address'] || d.bindAddress,
    securePort: f['secure-port'] ?? d.securePort,
    advertiseAddress: f['advertise-address'] ?? d.advertiseAddress,
    tlsCertFile: f['tls-cert-file'] ?? d.tlsCertFile,
    tlsPrivateKeyFile: f['tls-private-key-file'] ?? d.tlsPrivateKeyFile,
    clientCAFile: f['client-ca-file'] || undefined,
    kubeletClientCertificate: f['kubelet-client-certificate'] || undefined,
    kubeletClientKey: f['kubelet-client-key'] || undefined,
    kubeletCertificateAuthority: f['kubelet-certificate-authority'] || undefined,
    serviceClusterIPRange: f['service-cluster-ip-range'] || d.serviceClusterIPRange,
    serviceNodePortRange: f['service-node-port-range'] || d.serviceNodePortRange,
    authorizationMode: nonEmpty(f['authorization-mode']) ?? d.authorizationMode,
    enableAdmissionPlugins: nonEmpty(f['enable-admission-plugins']) ?? d.enableAdmissionPlugins,
    disableAdmissionPlugins: nonEmpty(f['disable-admission-plugins']) ?? d.disableAdmissionPlugins,
    watchCache: f['watch-cache'] ?? d.watchCache,
    etcdCompactionIntervalMs: f['etcd-compaction-interval'] ?? d.etcdCompactionIntervalMs,
    minRequestTimeoutSeconds: f['min-request-timeout'] ?? d.minRequestTimeoutSeconds,
    bookmarkIntervalMs: f['watch-bookmark-interval'] ?? d.bookmarkIntervalMs,
    tokenAuthFile: f['token-auth-file'] || undefined,
    serviceAccountKeyFiles: nonEmpty(f['service-account-key-file']) ?? d.serviceAccountKeyFiles,
    serviceAccountSigningKeyFile: f['service-account-signing-key-file'] || undefined,
    serviceAccountIssuer: f['service-account-issuer'] || d.serviceAccountIssuer,
    apiAudiences: nonEmpty(f['api-audiences']) ?? d.apiAudiences,
    enableBootstrapTokenAuth: f['enable-bootstrap-token-auth'] ?? d.enableBootstrapTokenAuth,
    anonymousAuth: f['anonymous-auth'] ?? d.anonymousAuth,
    maxRequestsInflight: f['max-requests-inflight'] ?? d.maxRequestsInflight,
    maxMutatingRequestsInflight: f['max-mutating-requests-inflight'] ?? d.maxMutatingRequestsInflight,
    requestTimeoutMs: f['request-timeout'] ?? d.requestTimeoutMs,
    shutdownDelayMs: f['shutdown-delay-duration'] ?? d.shutdownDelayMs,
    shutdownWatchTerminationGracePeriodMs: f['shutdown-watch-termination-grace-period'] ?? d.shutdownWatchTerminationGracePeriodMs,
    readHeaderTimeoutMs: f['read-header-timeout'] ?? d.readHeaderTimeoutMs,
  });
}

/** Parses kube-apiserver's command line into a validated config (tests and tools). */
export function configFromFlags(argv: readonly string[]): Readonly<ApiServerConfig> {
  return completeConfig(parseFlagSet(argv, FLAGS).flags);
}

export function validate(c: ApiServerConfig): ApiServerConfig {
  const problems: string[] = [];
  if (!c.etcdServers.length) problems.push('--etcd-servers must be specified');
  if (Boolean(c.etcdCertFile) !== Boolean(c.etcdKeyFile)) problems.push('--etcd-certfile and --etcd-keyfile must be specified together');
  if (!Number.isInteger(c.securePort) || c.securePort < 0 || c.securePort > 65535) problems.push(`--secure-port ${c.securePort} must be between 0 and 65535`);
  if (Boolean(c.kubeletClientCertificate) !== Boolean(c.kubeletClientKey)) {
    problems.push('--kubelet-client-certificate and --kubelet-client-key must be specified together');
  }
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
  for (const [flag, v] of [['--max-requests-inflight', c.maxRequestsInflight], ['--max-mutating-requests-inflight', c.maxMutatingRequestsInflight]] as const) {
    if (!Number.isInteger(v) || v < 0) problems.push(`${flag} can not be negative value`);
  }
  if (!(c.requestTimeoutMs >= 0)) problems.push('--request-timeout can not be negative value');
  if (!(c.shutdownDelayMs >= 0)) problems.push('--shutdown-delay-duration can not be negative value');
  if (!(c.shutdownWatchTerminationGracePeriodMs >= 0)) problems.push('--shutdown-watch-termination-grace-period, if provided, can not be a negative value');
  if (!(c.readHeaderTimeoutMs > 0)) problems.push('--read-header-timeout must be positive');
  if (problems.length) throw new Error(problems.join('; '));
  return Object.freeze({ ...c });
}

/** The etcd client's TLS material, read from the files --etcd-cafile/--etcd-certfile/--etcd-keyfile name. */
export function etcdClientTLS(c: ApiServerConfig): EtcdClientTLS | undefined {
  if (!c.etcdCAFile && !c.etcdCertFile) return undefined;
  return {
    ca: c.etcdCAFile ? readFileSync(c.etcdCAFile) : undefined,
    cert: c.etcdCertFile ? readFileSync(c.etcdCertFile) : undefined,
    key: c.etcdKeyFile ? readFileSync(c.etcdKeyFile) : undefined,
  };
}

/** Storage options from the etcd flags: client TLS and the encryption providers. */
export function etcdStorageOptions(c: ApiServerConfig): Pick<EtcdStorageOptions, 'tls' | 'transformerFor'> {
  return { tls: etcdClientTLS(c), transformerFor: c.encryptionProviderConfig ? loadEncryptionConfiguration(c.encryptionProviderConfig) : undefined };
}

export function readTLS(c: ApiServerConfig): { cert: Buffer; key: Buffer; ca?: Buffer } {
  return {
    cert: readFileSync(c.tlsCertFile),
    key: readFileSync(c.tlsPrivateKeyFile),
    ca: c.clientCAFile ? readFileSync(c.clientCAFile) : undefined,
  };
}

/** The kubelet client's TLS material (PEM), read from the --kubelet-* files. */
export function kubeletClientConfig(c: ApiServerConfig): KubeletClientConfig {
  return {
    certPem: c.kubeletClientCertificate ? readFileSync(c.kubeletClientCertificate, 'utf8') : undefined,
    keyPem: c.kubeletClientKey ? readFileSync(c.kubeletClientKey, 'utf8') : undefined,
    caPem: c.kubeletCertificateAuthority ? readFileSync(c.kubeletCertificateAuthority, 'utf8') : undefined,
  };
}
