// The bootstrap signer (upstream's pkg/controller/bootstrap/bootstrapsigner.go): the ConfigMap
// kube-public/cluster-info carries, for every bootstrap token allowed to sign (usage-bootstrap-signing "true", not
// expired), a detached JWS of its `kubeconfig` under `jws-kubeconfig-<token-id>`, so that a joining node holding the
// token can trust what it read before it trusts the server (kubeadm join's token discovery). Signatures of tokens that
// went away are removed. Off unless --controllers names it (as upstream; kubeadm turns it on).
import { createHmac } from 'node:crypto';
import { isConflict, isNotFound, type KubeObject } from '@kubelab/api';
import { realClock, WorkQueue, type Clock, type Informer, type Logger } from '@kubelab/client';
import { runQueue, type RunnableController } from '../controller-utils.js';
import { BOOTSTRAP_TOKEN_SECRET_TYPE, TOKEN_SECRET_NAMESPACE, tokenExpiration } from './token-cleaner.js';

export const CLUSTER_INFO_NAMESPACE = 'kube-public';
export const CLUSTER_INFO_NAME = 'cluster-info';
export const JWS_SIGNATURE_PREFIX = 'jws-kubeconfig-';
const KEY = `${CLUSTER_INFO_NAMESPACE}/${CLUSTER_INFO_NAME}`;

/** A detached JWS (RFC 7515 appendix F) of content, HS256 with the token's secret, `kid` the token's id. */
export function detachedSignature(content: string, tokenID: string, tokenSecret: string): string {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', kid: tokenID })).toString('base64url');
  const payload = Buffer.from(content).toString('base64url');
  return `${header}..${createHmac('sha256', tokenSecret).update(`${header}.${payload}`).digest('base64url')}`;
}

const field = (s: KubeObject, key: string) => {
  const v = (s.data as Record<string, string> | undefined)?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
};

/** token-id -> token-secret of the Secrets that may sign now (upstream's getTokens). */
export function signingTokens(secrets: readonly KubeObject[], now: Date): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of secrets) {
    if (s.type !== BOOTSTRAP_TOKEN_SECRET_TYPE || s.metadata.namespace !== TOKEN_SECRET_NAMESPACE || s.metadata.deletionTimestamp) continue;
    const id = field(s, 'token-id');
    const secret = field(s, 'token-secret');
    if (!id || !secret || field(s, 'usage-bootstrap-signing') !== 'true' || tokenExpiration(s, now).expired) continue;
    if (s.metadata.name !== `bootstrap-token-${id}`) continue;
    out.set(id, secret);
  }
  return out;
}

/** The cluster-info data with exactly the signatures of these tokens, or undefined when it already has them. */
export function signedClusterInfoData(data: Record<string, string>, tokens: Map<string, string>): Record<string, string> | undefined {
  const content = data.kubeconfig;
  if (content === undefined) return undefined;
  const next: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) if (!k.startsWith(JWS_SIGNATURE_PREFIX)) next[k] = v;
  for (const [id, secret] of tokens) next[`${JWS_SIGNATURE_PREFIX}${id}`] = detachedSignature(content, id, secret);
  const same = Object.keys(next).length === Object.keys(data).length && Object.entries(next).every(([k, v]) => data[k] === v);
  return same ? undefined : next;
}

export interface BootstrapSignerOptions {
  /** kube-public ConfigMaps (cluster-info is the one signed). */
  configMapInformer: Informer<KubeObject>;
  /** Bootstrap-token Secrets. */
  secretInformer: Informer<KubeObject>;
  updateConfigMap(cm: KubeObject): Promise<unknown>;
  clock?: Clock;
  logger?: Logger;
}

export class BootstrapSigner implements RunnableController {
  readonly name = 'bootstrap-signer-controller';
  readonly queue: WorkQueue<string>;
  private readonly clock: Clock;

  constructor(private readonly opts: BootstrapSignerOptions) {
    this.clock = opts.clock ?? realClock;
    this.queue = new WorkQueue<string>({ name: this.name, clock: this.clock });
    const cmChanged = (cm: KubeObject) => {
      if (cm.metadata.namespace === CLUSTER_INFO_NAMESPACE && cm.metadata.name === CLUSTER_INFO_NAME) this.queue.add(KEY);
    };
    opts.configMapInformer.addEventHandler({ onAdd: cmChanged, onUpdate: (_o, cm) => cmChanged(cm) });
    const secretChanged = () => this.queue.add(KEY);
    opts.secretInformer.addEventHandler({ onAdd: secretChanged, onUpdate: secretChanged, onDelete: secretChanged });
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    await runQueue(this.queue, workers, () => this.sync(), signal, this.opts.logger);
  }

  async sync(): Promise<void> {
    const cm = this.opts.configMapInformer.lister.get(CLUSTER_INFO_NAMESPACE, CLUSTER_INFO_NAME);
    if (!cm) return;
    const now = new Date(this.clock.now());
    const secrets = this.opts.secretInformer.lister.list(TOKEN_SECRET_NAMESPACE);
    const data = signedClusterInfoData((cm.data as Record<string, string> | undefined) ?? {}, signingTokens(secrets, now));
    // A token that expires later is taken off then.
    for (const s of secrets) {
      const ttl = tokenExpiration(s, now).ttlMs;
      if (ttl !== undefined) this.queue.addAfter(KEY, ttl);
    }
    if (!data) return;
    try {
      await this.opts.updateConfigMap({ ...cm, data });
    } catch (err) {
      if (isNotFound(err)) return;
      if (isConflict(err)) this.queue.add(KEY);
      else throw err;
    }
  }
}
