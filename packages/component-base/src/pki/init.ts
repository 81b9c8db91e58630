/**
 * `initPKI` lays out a cluster's certificates, keys and kubeconfigs in one directory, like
 * `kubeadm init phase certs` + `kubeconfig` do under /etc/kubernetes. It is idempotent: whatever already
 * exists (and is consistent with the CA) is reused, and only missing files are written.
 */
import { constants } from 'node:fs';
import { access, chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createPublicKey } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { buildKubeconfig } from './kubeconfig.js';
import {
  certificateSANs,
  createCA,
  createServiceAccountKeyPair,
  isIssuedBy,
  issueCertificate,
  keyMatchesCertificate,
  loadCA,
  type CertKeyPair,
  type IssueCertificateOptions,
} from './pki.js';

/** SANs every apiserver certificate carries: the in-cluster names of Service `kubernetes`, localhost, its ClusterIP and loopback. */
export const DEFAULT_APISERVER_DNS_NAMES = [
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
  'localhost',
] as const;
export const DEFAULT_APISERVER_IP_ADDRESSES = ['10.96.0.1', '127.0.0.1'] as const;

export const KEY_FILE_MODE = 0o600;
export const CERT_FILE_MODE = 0o644;

export interface InitPKIOptions {
  dir: string;
  /** API server URL written into the kubeconfigs; its host is also added to the apiserver certificate's SANs. */
  server: string;
  /** Extra SANs for apiserver.crt, on top of the defaults. */
  apiserverSANs?: { dnsNames?: string[]; ipAddresses?: string[] };
  /** Cluster name inside the kubeconfigs. Default `kubelab`. */
  clusterName?: string;
  /** The node name in etcd's server and peer certificates (CN and SAN). Default: this host's name. */
  nodeName?: string;
  /** Extra SANs for etcd/server.crt and etcd/peer.crt (e.g. the member's address other members and apiservers dial). */
  etcdSANs?: { dnsNames?: string[]; ipAddresses?: string[] };
}

export type PKIEntryKind = 'ca' | 'certificate' | 'key-pair' | 'kubeconfig';

export interface PKIEntry {
  /** Short name, as kubeadm names its phases: `ca`, `apiserver`, `apiserver-kubelet-client`, `sa`, `admin.conf`, ... */
  name: string;
  kind: PKIEntryKind;
  /** Absolute or dir-relative paths of the files of this entry. */
  files: string[];
  action: 'created' | 'reused';
}

export interface InitPKIResult {
  dir: string;
  ca: CertKeyPair;
  entries: PKIEntry[];
}

interface LeafSpec {
  name: string;
  options: IssueCertificateOptions;
  /** The signing CA's certificate, relative to dir (default ca.crt). */
  caFile?: string;
}

interface KubeconfigSpec {
  file: string;
  user: string;
  organizations?: string[];
}

/** Component kubeconfigs and the client identities they carry (RBAC binds these user/group names). */
export const KUBECONFIGS: readonly KubeconfigSpec[] = [
  { file: 'admin.conf', user: 'kubernetes-admin', organizations: ['system:masters'] },
  { file: 'scheduler.conf', user: 'system:kube-scheduler' },
  { file: 'controller-manager.conf', user: 'system:kube-controller-manager' },
  { file: 'kube-proxy.conf', user: 'system:kube-proxy' },
];

export async function initPKI(options: InitPKIOptions): Promise<InitPKIResult> {
  const { dir, server } = options;
  const clusterName = options.clusterName ?? 'kubelab';
  const serverHost = hostOf(server);
  await mkdir(dir, { recursive: true });
  const entries: PKIEntry[] = [];

  // CA
  const ca = await ensureCA(dir, 'ca', 'kubernetes', entries);

  // Leaf certificates
  const extra = options.apiserverSANs ?? {};
  const apiserverDNS = unique([...DEFAULT_APISERVER_DNS_NAMES, ...(extra.dnsNames ?? [])]);
  const apiserverIPs = unique([...DEFAULT_APISERVER_IP_ADDRESSES, ...(extra.ipAddresses ?? [])]);
  if (isIP(serverHost) !== 0) {
    if (!apiserverIPs.some((ip) => normalizeIP(ip) === normalizeIP(serverHost))) apiserverIPs.push(serverHost);
  } else if (!apiserverDNS.includes(serverHost)) {
    apiserverDNS.push(serverHost);
  }

  const leaves: LeafSpec[] = [
    {
      name: 'apiserver',
      options: { commonName: 'kube-apiserver', usage: 'server', dnsNames: apiserverDNS, ipAddresses: apiserverIPs },
    },
    {
      name: 'apiserver-kubelet-client',
      options: { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'], usage: 'client' },
    },
  ];
  for (const leaf of leaves) entries.push(await ensureLeaf(dir, ca, leaf));

  // etcd's own CA, its serving and peer certificates, and the clients of etcd, as kubeadm lays them out.
  await mkdir(join(dir, 'etcd'), { recursive: true });
  const etcdCA = await ensureCA(join(dir, 'etcd'), 'etcd/ca', 'etcd-ca', entries);
  const nodeName = (options.nodeName ?? hostname()).toLowerCase();
  const etcdDNS = unique(['localhost', nodeName, ...(options.etcdSANs?.dnsNames ?? [])]);
  const etcdIPs = unique(['127.0.0.1', '::1', ...(options.etcdSANs?.ipAddresses ?? [])]);
  const caFile = 'etcd/ca.crt';
  const etcdLeaves: LeafSpec[] = [
    { name: 'etcd/server', caFile, options: { commonName: nodeName, usage: 'both', dnsNames: etcdDNS, ipAddresses: etcdIPs } },
    { name: 'etcd/peer', caFile, options: { commonName: nodeName, usage: 'both', dnsNames: etcdDNS, ipAddresses: etcdIPs } },
    { name: 'etcd/healthcheck-client', caFile, options: { commonName: 'kube-etcd-healthcheck-client', usage: 'client' } },
    { name: 'apiserver-etcd-client', caFile, options: { commonName: 'kube-apiserver-etcd-client', usage: 'client' } },
  ];
  for (const leaf of etcdLeaves) entries.push(await ensureLeaf(dir, etcdCA, leaf));

  // Service-account signing key pair
  entries.push(await ensureServiceAccountKeys(dir));

  // Kubeconfigs
  for (const spec of KUBECONFIGS) {
    entries.push(await ensureKubeconfig(dir, ca, spec, { server, clusterName }));
  }

  return { dir, ca, entries };
}

/** Loads the CA in dir (ca.crt, ca.key) or creates it. */
async function ensureCA(dir: string, name: string, commonName: string, entries: PKIEntry[]): Promise<CertKeyPair> {
  const crt = join(dir, 'ca.crt');
  const key = join(dir, 'ca.key');
  if (await pairExists(crt, key)) {
    entries.push({ name, kind: 'ca', files: [crt, key], action: 'reused' });
    return loadCA(dir);
  }
  const ca = await createCA({ commonName });
  await writeNew(crt, ca.certPem, CERT_FILE_MODE);
  await writeNew(key, ca.keyPem, KEY_FILE_MODE);
  entries.push({ name, kind: 'ca', files: [crt, key], action: 'created' });
  return ca;
}

async function ensureLeaf(dir: string, ca: CertKeyPair, leaf: LeafSpec): Promise<PKIEntry> {
  const crtPath = join(dir, `${leaf.name}.crt`);
  const keyPath = join(dir, `${leaf.name}.key`);
  const files = [crtPath, keyPath];
  if (await pairExists(crtPath, keyPath)) {
    const certPem = await readFile(crtPath, 'utf8');
    const keyPem = await readFile(keyPath, 'utf8');
    if (!isIssuedBy(certPem, ca.certPem)) {
      throw new Error(`certificate ${leaf.name} is invalid: ${crtPath} is not signed by the CA in ${join(dir, leaf.caFile ?? 'ca.crt')}`);
    }
    if (!keyMatchesCertificate(keyPem, certPem)) {
      throw new Error(`certificate ${leaf.name} is invalid: ${keyPath} does not match ${crtPath}`);
    }
    const missing = missingSANs(certPem, leaf.options.dnsNames ?? [], leaf.options.ipAddresses ?? []);
    if (missing.length > 0) {
      throw new Error(
        `certificate ${leaf.name} is invalid: ${crtPath} is not valid for ${missing.join(', ')}; ` +
          `delete ${crtPath} and ${keyPath} to have them regenerated`,
      );
    }
    return { name: leaf.name, kind: 'certificate', files, action: 'reused' };
  }
  const issued = await issueCertificate(ca, leaf.options);
  await writeNew(crtPath, issued.certPem, CERT_FILE_MODE);
  await writeNew(keyPath, issued.keyPem, KEY_FILE_MODE);
  return { name: leaf.name, kind: 'certificate', files, action: 'created' };
}

async function ensureServiceAccountKeys(dir: string): Promise<PKIEntry> {
  const keyPath = join(dir, 'sa.key');
  const pubPath = join(dir, 'sa.pub');
  const files = [keyPath, pubPath];
  const [hasKey, hasPub] = await Promise.all([exists(keyPath), exists(pubPath)]);
  if (hasKey) {
    // Like kubeadm: a private key alone is enough, the public half is derived from it when missing.
    const publicPem = createPublicKey(await readFile(keyPath, 'utf8')).export({ type: 'spki', format: 'pem' }).toString();
    if (hasPub) {
      const existing = createPublicKey(await readFile(pubPath, 'utf8')).export({ type: 'spki', format: 'der' });
      if (!existing.equals(createPublicKey(publicPem).export({ type: 'spki', format: 'der' }))) {
        throw new Error(`the service account public key ${pubPath} does not match the private key ${keyPath}`);
      }
      return { name: 'sa', kind: 'key-pair', files, action: 'reused' };
    }
    await writeNew(pubPath, publicPem, CERT_FILE_MODE);
    return { name: 'sa', kind: 'key-pair', files, action: 'created' };
  }
  if (hasPub) throw new Error(`${pubPath} exists but its private key ${keyPath} does not`);
  const pair = await createServiceAccountKeyPair();
  await writeNew(keyPath, pair.privatePem, KEY_FILE_MODE);
  await writeNew(pubPath, pair.publicPem, CERT_FILE_MODE);
  return { name: 'sa', kind: 'key-pair', files, action: 'created' };
}

async function ensureKubeconfig(
  dir: string,
  ca: CertKeyPair,
  spec: KubeconfigSpec,
  cluster: { server: string; clusterName: string },
): Promise<PKIEntry> {
  const path = join(dir, spec.file);
  if (await exists(path)) {
    checkExistingKubeconfig(path, await readFile(path, 'utf8'), ca, cluster.server);
    return { name: spec.file, kind: 'kubeconfig', files: [path], action: 'reused' };
  }
  const client = await issueCertificate(ca, { commonName: spec.user, organizations: spec.organizations, usage: 'client' });
  const yaml = buildKubeconfig({
    clusterName: cluster.clusterName,
    server: cluster.server,
    caPem: ca.certPem,
    user: spec.user,
    certPem: client.certPem,
    keyPem: client.keyPem,
  });
  await writeNew(path, yaml, KEY_FILE_MODE);
  return { name: spec.file, kind: 'kubeconfig', files: [path], action: 'created' };
}

/** kubeadm refuses to reuse a kubeconfig that points at another server or trusts another CA; so do we. */
function checkExistingKubeconfig(path: string, text: string, ca: CertKeyPair, server: string): void {
  const config = parseYaml(text) as {
    'current-context'?: string;
    contexts?: Array<{ name: string; context?: { cluster?: string } }>;
    clusters?: Array<{ name: string; cluster?: { server?: string; 'certificate-authority-data'?: string } }>;
  } | null;
  const contextName = config?.['current-context'];
  const context = config?.contexts?.find((c) => c.name === contextName)?.context;
  const cluster = config?.clusters?.find((c) => c.name === context?.cluster)?.cluster;
  if (!cluster) throw new Error(`a kubeconfig file "${path}" exists already but its current context has no cluster`);
  const caData = cluster['certificate-authority-data'];
  if (!caData || Buffer.from(caData, 'base64').toString('utf8').trim() !== ca.certPem.trim()) {
    throw new Error(`a kubeconfig file "${path}" exists already but has got the wrong CA cert`);
  }
  if (cluster.server !== server) {
    throw new Error(
      `a kubeconfig file "${path}" exists already but has an unexpected API Server URL: expected: ${server}, got: ${cluster.server}`,
    );
  }
}

function missingSANs(certPem: string, dnsNames: string[], ipAddresses: string[]): string[] {
  const have = certificateSANs(certPem);
  const haveDNS = new Set(have.dnsNames.map((d) => d.toLowerCase()));
  const haveIPs = new Set(have.ipAddresses.map(normalizeIP));
  return [
    ...dnsNames.filter((d) => !haveDNS.has(d.toLowerCase())),
    ...ipAddresses.filter((ip) => !haveIPs.has(normalizeIP(ip))),
  ];
}

/** Canonical text form of an IP address (IPv6 compressed, lower case) so `::1` equals `0:0:0:0:0:0:0:1`. */
function normalizeIP(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

function hostOf(server: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new Error(`invalid API server URL ${JSON.stringify(server)}`);
  }
  if (url.protocol !== 'https:') throw new Error(`API server URL must use https, got ${JSON.stringify(server)}`);
  const host = url.hostname;
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values.map((v) => v.trim()).filter((v) => v !== ''))];
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** Both files present: reuse. Neither: generate. Only one: the directory is inconsistent, refuse to guess. */
async function pairExists(a: string, b: string): Promise<boolean> {
  const [hasA, hasB] = await Promise.all([exists(a), exists(b)]);
  if (hasA !== hasB) throw new Error(`${hasA ? a : b} exists but ${hasA ? b : a} does not`);
  return hasA;
}

/** Writes a file that must not exist yet, with `mode` enforced regardless of the umask. */
async function writeNew(path: string, data: string, mode: number): Promise<void> {
  await writeFile(path, data, { mode, flag: 'wx' });
  await chmod(path, mode);
}
