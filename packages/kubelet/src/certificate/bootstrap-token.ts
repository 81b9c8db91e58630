// The cluster side of a node's TLS bootstrap, as kubeadm sets it up (cmd/kubeadm/app/phases/bootstraptoken and
// `kubeadm token create`): a bootstrap token <id>.<secret> stored as the Secret kube-system/bootstrap-token-<id>, and
// the ClusterRoleBindings that let its holders create node CSRs that the csrapproving controller approves.
import { randomInt } from 'node:crypto';
import { findResource, isAlreadyExists, type KubeObject } from '@kubelab/api';
import type { RestClient } from '@kubelab/client';

/** kubeadm's group for the tokens it makes for joining nodes (the Secret's auth-extra-groups). */
export const DEFAULT_NODE_TOKEN_GROUP = 'system:bootstrappers:kubeadm:default-node-token';
/** kubeadm's default token TTL (24 h). */
export const DEFAULT_TOKEN_TTL_MS = 24 * 3_600_000;

const SECRETS = findResource('', 'v1', 'secrets')!;
const CLUSTER_ROLE_BINDINGS = findResource('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings')!;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

const randomString = (n: number) => Array.from({ length: n }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');

/** A fresh token `<6 [a-z0-9]>.<16 [a-z0-9]>` (kubeadm's GenerateBootstrapToken). */
export function generateBootstrapToken(): string {
  return `${randomString(6)}.${randomString(16)}`;
}

/** Go's RFC 3339 without fractional seconds. */
const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The Secret kubeadm writes for a token (usages authentication and signing, the default node group). */
export function bootstrapTokenSecret(token: string, opts: { ttlMs?: number; description?: string; now?: Date } = {}): KubeObject {
  const m = /^([a-z0-9]{6})\.([a-z0-9]{16})$/.exec(token);
  if (!m) throw new Error(`the bootstrap token "${token}" was not of the form "[a-z0-9]{6}.[a-z0-9]{16}"`);
  const data: Record<string, string> = {
    'token-id': m[1]!,
    'token-secret': m[2]!,
    'usage-bootstrap-authentication': 'true',
    'usage-bootstrap-signing': 'true',
    'auth-extra-groups': DEFAULT_NODE_TOKEN_GROUP,
  };
  const ttl = opts.ttlMs ?? DEFAULT_TOKEN_TTL_MS;
  if (ttl > 0) data.expiration = rfc3339((opts.now ?? new Date()).getTime() + ttl);
  if (opts.description) data.description = opts.description;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `bootstrap-token-${m[1]}`, namespace: 'kube-system' },
    type: 'bootstrap.kubernetes.io/token',
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

/** kubeadm's node bootstrap bindings: create CSRs, have them auto-approved, and renew (system:nodes, selfnodeclient). */
export function nodeBootstrapBindings(): KubeObject[] {
  const binding = (name: string, role: string, group: string): KubeObject => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }],
  });
  return [
    binding('kubeadm:kubelet-bootstrap', 'system:node-bootstrapper', DEFAULT_NODE_TOKEN_GROUP),
    binding('kubeadm:node-autoapprove-bootstrap', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', DEFAULT_NODE_TOKEN_GROUP),
    binding('kubeadm:node-autoapprove-certificate-rotation', 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', 'system:nodes'),
  ];
}

/** `kubeadm token create`: ensures the bindings, stores a new token's Secret and returns the token. */
export async function createBootstrapToken(client: RestClient, opts: { ttlMs?: number; description?: string } = {}): Promise<string> {
  for (const b of nodeBootstrapBindings()) {
    try {
      await client.resource(CLUSTER_ROLE_BINDINGS).create(b);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
  const token = generateBootstrapToken();
  await client.resource(SECRETS, 'kube-system').create(bootstrapTokenSecret(token, opts));
  return token;
}
