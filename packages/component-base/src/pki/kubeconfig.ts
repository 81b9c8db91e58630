/**
 * Builds kubeconfig files (clientcmd `Config`, apiVersion v1) with embedded credentials, in the shape
 * `kubectl config view --raw` / kubeadm write them: keys sorted, one cluster, one user, one context
 * named `<user>@<cluster>` that is the current-context.
 */
import { stringify } from 'yaml';

export interface BuildKubeconfigOptions {
  /** Cluster entry name. Default `kubelab`. */
  clusterName?: string;
  /** API server URL, e.g. `https://127.0.0.1:6443`. */
  server: string;
  /** PEM CA bundle the client uses to verify the server. */
  caPem: string;
  /** User entry name (kubeadm uses the certificate's CommonName, e.g. `kubernetes-admin`). */
  user: string;
  /** PEM client certificate; requires `keyPem`. */
  certPem?: string;
  /** PEM client private key; requires `certPem`. */
  keyPem?: string;
  /** Bearer token. */
  token?: string;
}

export function buildKubeconfig(options: BuildKubeconfigOptions): string {
  const clusterName = options.clusterName ?? 'kubelab';
  const { server, caPem, user } = options;
  if (!server) throw new Error('buildKubeconfig: server must not be empty');
  if (!user) throw new Error('buildKubeconfig: user must not be empty');
  if ((options.certPem === undefined) !== (options.keyPem === undefined)) {
    throw new Error('buildKubeconfig: certPem and keyPem must be given together');
  }
  if (options.certPem === undefined && options.token === undefined) {
    throw new Error('buildKubeconfig: either certPem/keyPem or token is required');
  }
  const contextName = `${user}@${clusterName}`;

  const authInfo: Record<string, string> = {};
  if (options.certPem !== undefined) authInfo['client-certificate-data'] = base64(options.certPem);
  if (options.keyPem !== undefined) authInfo['client-key-data'] = base64(options.keyPem);
  if (options.token !== undefined) authInfo['token'] = options.token;

  const config = {
    apiVersion: 'v1',
    clusters: [{ cluster: { 'certificate-authority-data': base64(caPem), server }, name: clusterName }],
    contexts: [{ context: { cluster: clusterName, user }, name: contextName }],
    'current-context': contextName,
    kind: 'Config',
    preferences: {},
    users: [{ name: user, user: authInfo }],
  };
  // lineWidth 0: base64 blobs stay on one line, as kubectl writes them.
  return stringify(config, { lineWidth: 0, indentSeq: false });
}

function base64(pem: string): string {
  return Buffer.from(pem, 'utf8').toString('base64');
}
