// The token cleaner (upstream's pkg/controller/bootstrap/tokencleaner.go): bootstrap-token Secrets
// (kube-system, type bootstrap.kubernetes.io/token) are deleted once the time in their `expiration` key has
// passed, guarded by the Secret's UID so that a Secret re-created under the same name is not touched. A token
// that has not expired yet is looked at again when it does. Off unless --controllers names it (as upstream;
// kubeadm turns it on).
import { isNotFound, type KubeObject } from '@kubelab/api';
import { realClock, WorkQueue, type Clock, type Informer, type Logger } from '@kubelab/client';
import { runQueue, type RunnableController } from '../controller-utils.js';

export const BOOTSTRAP_TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
export const TOKEN_SECRET_NAMESPACE = 'kube-system';

/**
 * How long until a token Secret expires: `expired` once its expiration has passed, `ttlMs` while it has not; neither for
 * a Secret without an expiration or with one that does not parse (upstream's GetExpiration keeps those).
 */
export function tokenExpiration(secret: KubeObject, now: Date): { expired: boolean; ttlMs?: number } {
  const encoded = (secret.data as Record<string, string> | undefined)?.expiration;
  if (!encoded) return { expired: false };
  const at = Date.parse(Buffer.from(encoded, 'base64').toString('utf8'));
  if (Number.isNaN(at)) return { expired: false };
  const ttlMs = at - now.getTime();
  return ttlMs <= 0 ? { expired: true } : { expired: false, ttlMs };
}

export interface TokenCleanerOptions {
  /** kube-system Secrets of the bootstrap token type. */
  secretInformer: Informer<KubeObject>;
  /** Deletes the Secret if it still has this UID. */
  deleteSecret(namespace: string, name: string, uid: string): Promise<unknown>;
  clock?: Clock;
  logger?: Logger;
}

export class TokenCleaner implements RunnableController {
  readonly name = 'token-cleaner-controller';
  readonly queue: WorkQueue<string>;
  private readonly clock: Clock;

  constructor(private readonly opts: TokenCleanerOptions) {
    this.clock = opts.clock ?? realClock;
    this.queue = new WorkQueue<string>({ name: this.name, clock: this.clock });
    const enqueue = (s: KubeObject) => {
      if (s.metadata.namespace === TOKEN_SECRET_NAMESPACE && s.type === BOOTSTRAP_TOKEN_SECRET_TYPE) this.queue.add(`${s.metadata.namespace}/${s.metadata.name}`);
    };
    opts.secretInformer.addEventHandler({ onAdd: enqueue, onUpdate: (_old, s) => enqueue(s) });
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    await runQueue(this.queue, workers, (key) => this.sync(key), signal, this.opts.logger);
  }

  async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const secret = this.opts.secretInformer.lister.get(namespace, name);
    if (!secret) return;
    const { expired, ttlMs } = tokenExpiration(secret, new Date(this.clock.now()));
    if (ttlMs !== undefined) {
      this.queue.addAfter(key, ttlMs);
      return;
    }
    if (!expired) return;
    this.opts.logger?.info?.({ secret: key }, 'Deleting expired secret');
    try {
      await this.opts.deleteSecret(namespace, name, String(secret.metadata.uid));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
