// The secure port every control-plane component serves besides its work (upstream: the scheduler's
// and controller-manager's SecureServing + delegated authentication/authorization + healthz/metrics):
// /healthz, /livez, /readyz for anyone; /metrics for callers the kube-apiserver authorizes.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { RestClient } from '@kubelab/client';
import { DELEGATED_AUTH_CLIENT, DELEGATED_AUTH_TIMEOUT_MS, delegatingAuth } from './delegating.js';
import { createSecureServer, okHandler, type SecureServer } from './secure-serving.js';

export interface ComponentServingOptions {
  /** The component's name, for the delegated-auth client's user agent: 'kube-scheduler'. */
  component: string;
  /** --bind-address and --secure-port; port 0 means no secure serving (as upstream). */
  bindAddress: string;
  securePort: number;
  /** --tls-cert-file / --tls-private-key-file; a self-signed certificate when absent. */
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  /** --client-ca-file; defaults to the cluster CA of the component's kubeconfig. */
  clientCAFile?: string;
  /** The component's own API client: the delegated-auth client copies its connection, not its rate limits. */
  client: RestClient;
  metrics: Registry;
  logger?: Logger;
}

export interface ComponentServer {
  port(): number;
  close(): Promise<void>;
}

/** Serves the component's secure port; undefined when --secure-port is 0. */
export async function serveComponent(opts: ComponentServingOptions): Promise<ComponentServer | undefined> {
  if (opts.securePort === 0) return undefined;
  // TokenReviews and SubjectAccessReviews go through a client of their own (own rate limiter, as
  // upstream's delegating clientset): a throttled work client must not starve /metrics.
  const reviews = new RestClient({ ...opts.client.config, ...DELEGATED_AUTH_CLIENT, userAgent: `${opts.component}/delegated-auth` });
  const post = (path: string, body: object) => reviews.request({ method: 'POST', path, body, signal: AbortSignal.timeout(DELEGATED_AUTH_TIMEOUT_MS) });
  let server: SecureServer;
  try {
    server = await createSecureServer({
      bindAddress: opts.bindAddress,
      port: opts.securePort,
      certPem: opts.tlsCertFile ? readFileSync(opts.tlsCertFile, 'utf8') : undefined,
      keyPem: opts.tlsPrivateKeyFile ? readFileSync(opts.tlsPrivateKeyFile, 'utf8') : undefined,
      clientCA: opts.clientCAFile ? readFileSync(opts.clientCAFile, 'utf8') : opts.client.config.ca,
      ...delegatingAuth(post),
      handlers: {
        '/healthz': okHandler,
        '/livez': okHandler,
        '/readyz': okHandler,
        '/metrics': (_req, res) => {
          void opts.metrics.metrics().then((text) => {
            res.writeHead(200, { 'Content-Type': opts.metrics.contentType });
            res.end(text);
          });
        },
      },
      logger: opts.logger,
    });
  } catch (err) {
    reviews.close();
    throw err;
  }
  return {
    port: () => server.port(),
    close: async () => {
      await server.close();
      reviews.close();
    },
  };
}
