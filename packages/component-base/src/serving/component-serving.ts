// The secure port every control-plane component serves besides its work (upstream: the scheduler's
// and controller-manager's SecureServing + delegated authentication/authorization + healthz/metrics):
// /healthz, /livez, /readyz for anyone; /metrics for callers the kube-apiserver authorizes.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { RestClient } from '@kubelab/client';
import { DELEGATED_AUTH_CLIENT, DELEGATED_AUTH_TIMEOUT_MS, delegatingAuth } from './delegating.js';
import { createSecureServer, okHandler, type SecureServer } from './secure-serving.js';
import type { FlagDefs, ParsedFlags } from '../flags.js';

/** A component's secure port, as upstream's SecureServingOptions. */
export interface SecureServingConfig {
  bindAddress: string;
  /** 0 turns secure serving off, as upstream. */
  securePort: number;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  clientCAFile?: string;
}

export const SECURE_SERVING_FLAGS = {
  'bind-address': { kind: 'string', usage: 'The IP address on which to listen for the --secure-port port.' },
  'secure-port': { kind: 'int32', usage: "The port on which to serve HTTPS with authentication and authorization. If 0, don't serve HTTPS at all." },
  'tls-cert-file': { kind: 'string', usage: 'File containing the default x509 Certificate for HTTPS (self-signed when not given).' },
  'tls-private-key-file': { kind: 'string', usage: 'File containing the default x509 private key matching --tls-cert-file.' },
  'client-ca-file': { kind: 'string', usage: 'Client certificates signed by this CA are authenticated (default: the kubeconfig\'s CA).' },
} as const satisfies FlagDefs;

/** The secure serving part of a config from parsed flags over `d`. */
export function secureServingFromFlags(f: ParsedFlags<typeof SECURE_SERVING_FLAGS>, d: SecureServingConfig): SecureServingConfig {
  return {
    bindAddress: f['bind-address'] || d.bindAddress,
    securePort: f['secure-port'] ?? d.securePort,
    tlsCertFile: f['tls-cert-file'] || d.tlsCertFile,
    tlsPrivateKeyFile: f['tls-private-key-file'] || d.tlsPrivateKeyFile,
    clientCAFile: f['client-ca-file'] || d.clientCAFile,
  };
}

export function validateSecureServing(c: SecureServingConfig): string[] {
  const errs: string[] = [];
  if (!Number.isInteger(c.securePort) || c.securePort < 0 || c.securePort > 65535) {
    errs.push(`--secure-port ${c.securePort} must be between 0 and 65535, inclusive. 0 for turning off secure port`);
  }
  if (!!c.tlsCertFile !== !!c.tlsPrivateKeyFile) errs.push('--tls-cert-file and --tls-private-key-file must be given together');
  return errs;
}

export interface ComponentServingOptions extends SecureServingConfig {
  /** The component's name, for the delegated-auth client's user agent: 'kube-scheduler'. */
  component: string;
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
