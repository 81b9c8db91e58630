// Clients for the controllers (upstream's k8s.io/controller-manager/pkg/clientbuilder). Without
// --use-service-account-credentials every controller shares the controller-manager's own client; with it,
// each gets a client authenticated as its kube-system ServiceAccount (DynamicControllerClientBuilder): the
// ServiceAccount is created when missing, a token comes from the TokenRequest API
// (serviceaccounts/token) and is renewed before it expires, so what a controller writes is attributed to
// system:serviceaccount:kube-system:<name> and authorized by that account's roles.
import { findResource, isAlreadyExists, isNotFound, type KubeObject } from '@kubelab/api';
import { realClock, RestClient, type Clock, type Logger } from '@kubelab/client';

export const CONTROLLER_NAMESPACE = 'kube-system';
/** Upstream's default token lifetime for controller tokens (one hour). */
export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600;
/** A token is renewed when this fraction of its lifetime has passed (client-go's token source renews at 80%). */
const RENEW_AT_FRACTION = 0.8;
const RETRY_MS = 10_000;
const SERVICEACCOUNTS = findResource('', 'v1', 'serviceaccounts')!;

export interface ControllerClientBuilder {
  /** The client a controller running as `account` uses. */
  client(account: string): Promise<RestClient>;
  /** Stops renewing tokens and closes the clients it built. */
  stop(): void;
}

/** Every controller uses the controller-manager's own client (upstream's SimpleControllerClientBuilder). */
export function simpleClientBuilder(root: RestClient): ControllerClientBuilder {
  return { client: async () => root, stop: () => undefined };
}

interface TokenRequestStatus {
  status?: { token?: string; expirationTimestamp?: string };
}


export interface ServiceAccountClientBuilderOptions {
  /** The controller-manager's own client: creates the ServiceAccounts and requests their tokens. */
  root: RestClient;
  clock?: Clock;
  logger?: Logger;
  expirationSeconds?: number;
}

/** Upstream's DynamicControllerClientBuilder: one client per ServiceAccount, its token renewed in the background. */
export function serviceAccountClientBuilder(opts: ServiceAccountClientBuilderOptions): ControllerClientBuilder {
  const { root } = opts;
  const clock = opts.clock ?? realClock;
  const expirationSeconds = opts.expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS;
  const clients = new Map<string, Promise<RestClient>>();
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;

  const ensureServiceAccount = async (name: string): Promise<void> => {
    const sas = root.resource<KubeObject>(SERVICEACCOUNTS, CONTROLLER_NAMESPACE);
    try {
      await sas.get(name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await sas.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: CONTROLLER_NAMESPACE } });
      } catch (createErr) {
        if (!isAlreadyExists(createErr)) throw createErr;
      }
    }
  };

  const requestToken = async (name: string): Promise<{ token: string; expiresAtMs: number }> => {
    const path = `/api/v1/namespaces/${CONTROLLER_NAMESPACE}/serviceaccounts/${encodeURIComponent(name)}/token`;
    const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds } };
    let res: TokenRequestStatus;
    try {
      res = await root.request<TokenRequestStatus>({ method: 'POST', path, body });
    } catch (err) {
      // The ServiceAccount was deleted since: make it again, as upstream does on every token fetch.
      if (!isNotFound(err)) throw err;
      await ensureServiceAccount(name);
      res = await root.request<TokenRequestStatus>({ method: 'POST', path, body });
    }
    const token = res.status?.token;
    if (!token) throw new Error(`no token in the TokenRequest response for ${CONTROLLER_NAMESPACE}/${name}`);
    const expiresAtMs = Date.parse(res.status?.expirationTimestamp ?? '') || clock.now() + expirationSeconds * 1000;
    return { token, expiresAtMs };
  };

  const scheduleRenewal = (name: string, client: RestClient, delayMs: number): void => {
    if (stopped) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      requestToken(name).then(
        ({ token, expiresAtMs }) => {
          client.setBearerToken(token);
          scheduleRenewal(name, client, renewDelay(expiresAtMs));
        },
        (err) => {
          opts.logger?.error?.({ err: (err as Error).message, serviceAccount: name }, 'Failed to renew the controller token; retrying');
          scheduleRenewal(name, client, RETRY_MS);
        },
      );
    }, delayMs);
    timer.unref?.();
    timers.add(timer);
  };

  const renewDelay = (expiresAtMs: number): number => {
    const now = clock.now();
    return Math.max(1000, (expiresAtMs - now) * RENEW_AT_FRACTION);
  };

  const build = async (name: string): Promise<RestClient> => {
    await ensureServiceAccount(name);
    const { token, expiresAtMs } = await requestToken(name);
    const base = root.config;
    const client = new RestClient({
      server: base.server,
      ca: base.ca,
      insecureSkipTLSVerify: base.insecureSkipTLSVerify,
      tlsServerName: base.tlsServerName,
      qps: base.qps,
      burst: base.burst,
      token,
      userAgent: `${base.userAgent ?? 'kube-controller-manager'}/${name}`,
    });
    scheduleRenewal(name, client, renewDelay(expiresAtMs));
    return client;
  };

  return {
    client(account) {
      let c = clients.get(account);
      if (!c) {
        c = build(account);
        clients.set(account, c);
        // A failed build is retried by the next caller.
        c.catch(() => clients.delete(account));
      }
      return c;
    },
    stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const c of clients.values()) c.then((client) => client.close(), () => undefined);
      clients.clear();
    },
  };
}
