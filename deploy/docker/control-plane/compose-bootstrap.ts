// The compose lab's one-shot bootstrap, run once the apiservers start (upstream: kubeadm init's phases
// bootstrap-token and addon/coredns, then `kubeadm token create` for the joining nodes):
//   - waits until the apiserver answers /readyz (admin.conf from the PKI volume);
//   - keeps a bootstrap token for the nodes: the one in /join/bootstrap-kubelet.conf while its Secret
//     exists and is valid for another hour, else a new one (createBootstrapToken: the Secret and kubeadm's bindings);
//   - writes the join files the nodes mount (the `join` volume, /join here): ca.crt, bootstrap-kubelet.conf, kube-proxy.conf;
//   - creates what hack/lab deploys where missing: the cluster DNS (packages/dns/deploy/kube-dns.yaml), the default
//     StorageClass (packages/controller-manager/deploy/storageclass.yaml) and the ingress controller
//     (packages/ingress-controller/deploy/ingress-controller.yaml).
// Compiled to /app/compose/compose-bootstrap.js by hack/compose; run as `node /app/compose/compose-bootstrap.js`.
import { copyFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { findResource, isAlreadyExists, isNotFound, type KubeObject } from '@kubelab/api';
import { loadKubeconfig, RestClient } from '@kubelab/client';
import { createBootstrapToken } from '@kubelab/kubelet';
import { parseAllDocuments } from 'yaml';

const PKI = '/etc/kubernetes/pki';
const JOIN = process.env.KUBELAB_JOIN_DIR ?? '/join';
const SERVER = process.env.KUBELAB_JOIN_SERVER ?? 'https://kube-apiserver:6443';
const DNS_MANIFEST = process.env.KUBELAB_DNS_MANIFEST ?? '/app/compose/kube-dns.yaml';
const STORAGE_CLASS_MANIFEST = process.env.KUBELAB_STORAGE_CLASS_MANIFEST ?? '/app/compose/storageclass.yaml';
const INGRESS_MANIFEST = process.env.KUBELAB_INGRESS_MANIFEST ?? '/app/compose/ingress-controller.yaml';
const TIMEOUT_MS = Number(process.env.KUBELAB_BOOTSTRAP_TIMEOUT_MS ?? 120_000);
const SECRETS = findResource('', 'v1', 'secrets')!;

const log = (msg: string) => console.log(`[bootstrap] ${msg}`);

async function waitReady(client: RestClient): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await client.stream({ path: '/readyz', accept: 'text/plain' });
      res.resume();
      return;
    } catch (err) {
      last = String((err as Error).message ?? err);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the apiserver did not become ready in ${TIMEOUT_MS / 1000}s: ${last}`);
}

/** The token of an existing bootstrap kubeconfig whose Secret is still valid for an hour, if any. */
async function reusableToken(client: RestClient): Promise<string | undefined> {
  let text: string;
  try {
    text = readFileSync(`${JOIN}/bootstrap-kubelet.conf`, 'utf8');
  } catch {
    return undefined;
  }
  const token = /^\s*token: ([a-z0-9]{6})\.([a-z0-9]{16})\s*$/m.exec(text);
  if (!token) return undefined;
  try {
    const secret = await client.resource(SECRETS, 'kube-system').get(`bootstrap-token-${token[1]}`);
    const data = (secret as { data?: Record<string, string> }).data ?? {};
    const expiration = data.expiration ? Date.parse(Buffer.from(data.expiration, 'base64').toString()) : Number.POSITIVE_INFINITY;
    if (expiration - Date.now() < 3_600_000) return undefined;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  return `${token[1]}.${token[2]}`;
}

function writeFile(path: string, text: string, mode = 0o600): void {
  writeFileSync(`${path}.tmp`, text, { mode });
  renameSync(`${path}.tmp`, path);
}

/** kubeadm join's bootstrap-kubelet.conf: the apiserver (the shared kube-apiserver alias) and the token. */
function bootstrapKubeconfig(token: string): string {
  const ca = readFileSync(`${PKI}/ca.crt`).toString('base64');
  return `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: ${ca}
    server: ${SERVER}
  name: kubelab
contexts:
- context:
    cluster: kubelab
    user: tls-bootstrap-token-user
  name: tls-bootstrap-token-user@kubelab
current-context: tls-bootstrap-token-user@kubelab
users:
- name: tls-bootstrap-token-user
  user:
    token: ${token}
`;
}

/** Creates each object of the manifest that does not exist yet (an existing one is left as it is). */
async function createMissing(client: RestClient, manifest: string): Promise<void> {
  for (const doc of parseAllDocuments(manifest)) {
    const obj = doc.toJS() as KubeObject | null;
    if (!obj?.kind || !obj.apiVersion) continue;
    const ns = obj.metadata?.namespace;
    try {
      await client.resourceFor(obj.apiVersion, obj.kind, ns).create(obj);
      log(`created ${obj.kind} ${ns ? `${ns}/` : ''}${obj.metadata?.name}`);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
}

async function main(): Promise<void> {
  const client = new RestClient(loadKubeconfig(`${PKI}/admin.conf`));
  try {
    await waitReady(client);
    mkdirSync(JOIN, { recursive: true });
    let token = await reusableToken(client);
    if (token) {
      log(`reusing bootstrap token ${token.split('.')[0]}`);
    } else {
      token = await createBootstrapToken(client, { description: 'compose lab nodes (hack/compose)' });
      log(`created bootstrap token ${token.split('.')[0]}`);
    }
    copyFileSync(`${PKI}/ca.crt`, `${JOIN}/ca.crt.tmp`);
    renameSync(`${JOIN}/ca.crt.tmp`, `${JOIN}/ca.crt`);
    writeFile(`${JOIN}/kube-proxy.conf`, readFileSync(`${PKI}/kube-proxy.conf`, 'utf8'));
    writeFile(`${JOIN}/bootstrap-kubelet.conf`, bootstrapKubeconfig(token));
    log(`wrote ${JOIN}/{ca.crt,kube-proxy.conf,bootstrap-kubelet.conf}`);
    if (process.env.KUBELAB_CLUSTER_DNS !== '') await createMissing(client, readFileSync(DNS_MANIFEST, 'utf8'));
    await createMissing(client, readFileSync(STORAGE_CLASS_MANIFEST, 'utf8'));
    await createMissing(client, readFileSync(INGRESS_MANIFEST, 'utf8'));
  } finally {
    client.close();
  }
}

await main();
