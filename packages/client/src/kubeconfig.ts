// Client configuration: a kubeconfig file (clientcmd's loading rules, reduced to one file) or the
// in-cluster service account (rest.InClusterConfig).
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface RestConfig {
  /** https://host:port, optionally with a path prefix. */
  server: string;
  /** PEM CA bundle used to verify the server. */
  ca?: string;
  /** PEM client certificate and key. */
  cert?: string;
  key?: string;
  /** A bearer token. */
  token?: string;
  /** A file holding the bearer token; re-read periodically (it overrides `token` once readable). */
  tokenFile?: string;
  insecureSkipTLSVerify?: boolean;
  /** The name the server certificate is checked against (SNI), when it differs from the host. */
  tlsServerName?: string;
  /** Client-side rate limit; defaults 50 qps / 100 burst; qps 0 disables it. */
  qps?: number;
  burst?: number;
  /** A deadline for each request() (rest.Config's Timeout; watches and streams are not bounded by it); none by default. */
  timeoutMs?: number;
  userAgent?: string;
  /** The context's (or service account's) namespace, if any. */
  namespace?: string;
}

export interface KubeconfigOptions {
  /** Use this context instead of current-context (kubectl's --context). */
  context?: string;
  /** Environment for $KUBECONFIG and $HOME lookups. */
  env?: NodeJS.ProcessEnv;
}

/** The kubeconfig path kubectl would use: the first entry of $KUBECONFIG, else ~/.kube/config. */
export function defaultKubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const first = (env.KUBECONFIG ?? '').split(delimiter).find((p) => p.trim() !== '');
  if (first) return first;
  return join(env.HOME || homedir(), '.kube', 'config');
}

/** Reads a kubeconfig file and returns the RestConfig of its current (or the chosen) context. */
export function loadKubeconfig(path?: string, opts: KubeconfigOptions = {}): RestConfig {
  const file = resolve(path ?? defaultKubeconfigPath(opts.env));
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`unable to read kubeconfig ${file}: ${(err as Error).message}`);
  }
  return parseKubeconfig(text, { ...opts, dir: dirname(file) });
}

interface NamedEntry<T> {
  name: string;
  [key: string]: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}

interface KubeconfigCluster {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
}

interface KubeconfigUser {
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  token?: string;
  tokenFile?: string;
  exec?: unknown;
}

interface KubeconfigContext {
  cluster?: string;
  user?: string;
  namespace?: string;
}

/** Parses kubeconfig YAML; relative file paths are resolved against `dir`. */
export function parseKubeconfig(text: string, opts: KubeconfigOptions & { dir?: string } = {}): RestConfig {
  const doc = (parseYaml(text) ?? {}) as {
    'current-context'?: string;
    clusters?: NamedEntry<KubeconfigCluster>[];
    users?: NamedEntry<KubeconfigUser>[];
    contexts?: NamedEntry<KubeconfigContext>[];
  };
  const dir = opts.dir ?? process.cwd();
  const contextName = opts.context || doc['current-context'];
  if (!contextName) throw new Error('invalid configuration: no context chosen and current-context is not set');
  const context = doc.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) throw new Error(`context was not found for specified context: ${contextName}`);
  const cluster = doc.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster) throw new Error(`cluster has no server defined`);
  if (!cluster.server) throw new Error('invalid configuration: no server found for cluster ' + JSON.stringify(context.cluster));
  const user: KubeconfigUser = (context.user ? doc.users?.find((u) => u.name === context.user)?.user : undefined) ?? {};
  if (user.exec) throw new Error('kubeconfig exec credential plugins are not supported');

  const path = (p: string) => (isAbsolute(p) ? p : join(dir, p));
  const data = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
  const pick = (inline: string | undefined, file: string | undefined): string | undefined => {
    if (inline) return data(inline);
    if (file) return readFileSync(path(file), 'utf8');
    return undefined;
  };

  const config: RestConfig = { server: cluster.server.replace(/\/+$/, '') };
  const ca = pick(cluster['certificate-authority-data'], cluster['certificate-authority']);
  if (ca) config.ca = ca;
  if (cluster['insecure-skip-tls-verify']) config.insecureSkipTLSVerify = true;
  if (cluster['tls-server-name']) config.tlsServerName = cluster['tls-server-name'];
  const cert = pick(user['client-certificate-data'], user['client-certificate']);
  const key = pick(user['client-key-data'], user['client-key']);
  if (cert) config.cert = cert;
  if (key) config.key = key;
  if (user.token) config.token = user.token;
  if (user.tokenFile) {
    config.tokenFile = path(user.tokenFile);
    if (!config.token) config.token = readFileSync(config.tokenFile, 'utf8').trim();
  }
  if (context.namespace) config.namespace = context.namespace;
  return config;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface InClusterOptions {
  env?: NodeJS.ProcessEnv;
  /** Where the service account's token, ca.crt and namespace are mounted. */
  serviceAccountDir?: string;
}

/** The config of a pod's service account; throws if not running in a cluster. */
export function inClusterConfig(opts: InClusterOptions = {}): RestConfig {
  const env = opts.env ?? process.env;
  const dir = opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new Error('unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined');
  }
  const tokenFile = join(dir, 'token');
  const token = readFileSync(tokenFile, 'utf8').trim();
  const config: RestConfig = {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    token,
    tokenFile,
  };
  try {
    config.ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  } catch {
    // upstream logs and goes on without a CA (system roots)
  }
  try {
    const ns = readFileSync(join(dir, 'namespace'), 'utf8').trim();
    if (ns) config.namespace = ns;
  } catch {
    // no namespace file
  }
  return config;
}
