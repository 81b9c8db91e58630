/**
 * The `pki` command: `pki init --dir DIR --server URL [--apiserver-cert-extra-sans=a,b,1.2.3.4] [--etcd-cert-extra-sans=...]`.
 * Flag names follow kubeadm (`--cert-dir` is accepted as an alias of `--dir`).
 */
import { parseArgs } from 'node:util';
import { initPKI, type PKIEntry } from './init.js';
import { splitSANs } from './pki.js';

export const USAGE = `Usage:
  pki init --dir DIR --server URL [flags]

Creates a cluster CA, the apiserver serving and kubelet-client certificates, the service-account key pair,
etcd's CA with its server, peer and healthcheck-client certificates plus apiserver-etcd-client (kubeadm's
etcd/ layout), and the admin, scheduler, controller-manager and kube-proxy kubeconfigs in DIR. Existing
files are reused.

Flags:
      --dir string                          directory for certificates, keys and kubeconfigs (alias --cert-dir) (default ".kubelab/pki")
      --server string                       API server URL written into the kubeconfigs (default "https://127.0.0.1:6443")
      --apiserver-cert-extra-sans strings   extra Subject Alternative Names (IP addresses or DNS names) for the apiserver certificate
      --etcd-cert-extra-sans strings        extra Subject Alternative Names for etcd's server and peer certificates
      --node-name string                    node name in etcd's server and peer certificates (default: the host name)
      --cluster-name string                 cluster name in the kubeconfigs (default "kubelab")
  -h, --help                                help for pki
`;

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** Runs the CLI with `args` (without node and script) and returns the process exit code. */
export async function runPKICli(args: string[], io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        dir: { type: 'string' },
        'cert-dir': { type: 'string' },
        server: { type: 'string' },
        'apiserver-cert-extra-sans': { type: 'string', multiple: true },
        'etcd-cert-extra-sans': { type: 'string', multiple: true },
        'node-name': { type: 'string' },
        'cluster-name': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    io.stderr(`error: ${(err as Error).message}\n${USAGE}`);
    return 1;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== 'init') {
    io.stderr(`error: ${positionals.length === 0 ? 'missing command' : `unknown command ${JSON.stringify(positionals.join(' '))}`}\n${USAGE}`);
    return 1;
  }
  const dir = values.dir ?? values['cert-dir'] ?? '.kubelab/pki';
  const server = values.server ?? 'https://127.0.0.1:6443';
  const extra = splitSANs((values['apiserver-cert-extra-sans'] ?? []).flatMap((v) => v.split(',')));
  try {
    const etcdSANs = splitSANs((values['etcd-cert-extra-sans'] ?? []).flatMap((v) => v.split(',')));
    const result = await initPKI({ dir, server, apiserverSANs: extra, clusterName: values['cluster-name'], nodeName: values['node-name'], etcdSANs });
    for (const entry of result.entries) io.stdout(describePKIEntry(entry) + '\n');
    return 0;
  } catch (err) {
    io.stderr(`error: ${(err as Error).message}\n`);
    return 1;
  }
}

/** One line per entry, worded like kubeadm's `[certs]` / `[kubeconfig]` phases. */
export function describePKIEntry(entry: PKIEntry): string {
  const files = entry.files.join(', ');
  switch (entry.kind) {
    case 'ca':
      return entry.action === 'created'
        ? `[certs] Generating "${entry.name}" certificate and key: ${files}`
        : `[certs] Using existing ${entry.name} certificate authority: ${files}`;
    case 'certificate':
      return entry.action === 'created'
        ? `[certs] Generating "${entry.name}" certificate and key: ${files}`
        : `[certs] Using existing ${entry.name} certificate and key on disk: ${files}`;
    case 'key-pair':
      return entry.action === 'created'
        ? `[certs] Generating "${entry.name}" key and public key: ${files}`
        : `[certs] Using the existing "${entry.name}" key: ${files}`;
    case 'kubeconfig':
      return entry.action === 'created'
        ? `[kubeconfig] Writing "${entry.name}" kubeconfig file: ${files}`
        : `[kubeconfig] Using existing kubeconfig file: "${files}"`;
  }
}
