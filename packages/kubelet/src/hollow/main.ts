// hollow-node: N hollow kubelets in one process (upstream's kubemark binary, `kubemark --morph=kubelet`, which
// runs one per pod). `node packages/kubelet/src/hollow/main.ts --kubeconfig=admin.conf --nodes=100
// --name-prefix=hollow- --cluster-signing-cert-file=ca.crt --cluster-signing-key-file=ca.key`.
// With an IPC channel (started by child_process.fork, as bench/kubelet-density.ts does) it also answers
// {type:'scale', nodes} (grow to that many nodes) and {type:'stats'} (its memory and event loop delay).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadKubeconfig } from '@kubelab/client';
import { runComponent, type FlagDefs, type ParsedFlags } from '@kubelab/component-base';
import { HollowNodeRunner } from './runner.js';

const FLAGS = {
  kubeconfig: { kind: 'string', usage: 'Path to a kubeconfig file: the apiserver and its CA (each hollow node authenticates with its own certificate).' },
  morph: { kind: 'string', usage: 'Specifies into which Hollow component this binary should morph. Only kubelet here.' },
  nodes: { kind: 'int32', usage: 'How many hollow nodes this process runs.' },
  'name-prefix': { kind: 'string', usage: 'Node names are <prefix><index>.' },
  'cluster-signing-cert-file': { kind: 'string', usage: "The cluster CA certificate that signs each node's system:node:<name> client certificate." },
  'cluster-signing-key-file': { kind: 'string', usage: 'The cluster CA key.' },
  'bootstrap-kubeconfig': { kind: 'string', usage: 'Instead of a CA: each node joins with this bootstrap kubeconfig and a CertificateSigningRequest.' },
  'root-dir': { kind: 'string', usage: 'Directory for the nodes\' files (default: a new temporary directory).' },
  'start-interval': { kind: 'duration', usage: 'The time between two node starts (default 20ms).' },
  'max-pods': { kind: 'int32', usage: 'Number of Pods each hollow node can run (default 110).' },
  'node-labels': { kind: 'string', usage: 'Labels to add when registering the nodes (key=value pairs separated by commas).' },
  'register-with-taints': { kind: 'stringSlice', usage: 'Register the nodes with the given list of taints.' },
  'kube-api-qps': { kind: 'int32', usage: 'QPS of each node to the apiserver (default 50).' },
  'kube-api-burst': { kind: 'int32', usage: 'Burst of each node to the apiserver (default 100).' },
} as const satisfies FlagDefs;

interface HollowMainConfig {
  kubeconfig: string;
  nodes: number;
  namePrefix: string;
  signingCertFile: string;
  signingKeyFile: string;
  bootstrapKubeconfig: string;
  rootDir: string;
  startIntervalMs: number;
  kubeletFlags: string[];
  qps: number;
  burst: number;
}

function complete(f: ParsedFlags<typeof FLAGS>): Readonly<HollowMainConfig> {
  const errs: string[] = [];
  if (f.morph && f.morph !== 'kubelet') errs.push(`Unknown morph: ${f.morph}. Allowed values: [kubelet]`);
  if (!f.kubeconfig) errs.push('--kubeconfig is required');
  const signing = !!f['cluster-signing-cert-file'] && !!f['cluster-signing-key-file'];
  if (!signing && !f['bootstrap-kubeconfig']) errs.push('either --cluster-signing-cert-file and --cluster-signing-key-file, or --bootstrap-kubeconfig is required');
  const nodes = f.nodes ?? 1;
  if (nodes < 0) errs.push(`--nodes ${nodes} must not be negative`);
  if (errs.length) throw new Error(errs.join('; '));
  const kubeletFlags = [
    ...(f['max-pods'] !== undefined ? [`--max-pods=${f['max-pods']}`] : []),
    ...(f['node-labels'] ? [`--node-labels=${f['node-labels']}`] : []),
    ...(f['register-with-taints'] ?? []).filter(Boolean).map((t) => `--register-with-taints=${t}`),
  ];
  return Object.freeze({
    kubeconfig: f.kubeconfig!,
    nodes,
    namePrefix: f['name-prefix'] || 'hollow-node-',
    signingCertFile: signing ? f['cluster-signing-cert-file']! : '',
    signingKeyFile: signing ? f['cluster-signing-key-file']! : '',
    bootstrapKubeconfig: f['bootstrap-kubeconfig'] ?? '',
    rootDir: f['root-dir'] || mkdtempSync(join(tmpdir(), 'hollow-nodes-')),
    startIntervalMs: f['start-interval'] ?? 20,
    kubeletFlags,
    qps: f['kube-api-qps'] ?? 50,
    burst: f['kube-api-burst'] ?? 100,
  });
}

export type HollowRunnerMessage = { type: 'scale'; nodes: number } | { type: 'stats' };
export type HollowRunnerReply =
  | { type: 'scaled'; nodes: number; ms: number; error?: string }
  | { type: 'stats'; nodes: number; rssBytes: number; heapUsedBytes: number; eventLoopDelayMs: { p50: number; p99: number; max: number } };

await runComponent({
  name: 'hollow-node',
  short: 'Hollow kubelets (kubemark --morph=kubelet): real kubelets over a pretend container runtime, many in one process.',
  flags: FLAGS,
  complete,
  shutdownTimeoutMs: 60_000,
  create: (config, { logger }) => {
    const server = loadKubeconfig(config.kubeconfig);
    const runner = new HollowNodeRunner({
      server: { server: server.server, ca: server.ca, tlsServerName: server.tlsServerName, insecureSkipTLSVerify: server.insecureSkipTLSVerify },
      signer: config.signingCertFile
        ? { certPem: readFileSync(config.signingCertFile, 'utf8'), keyPem: readFileSync(config.signingKeyFile, 'utf8') }
        : undefined,
      bootstrapKubeconfig: config.bootstrapKubeconfig || undefined,
      namePrefix: config.namePrefix,
      rootDir: config.rootDir,
      kubeletFlags: config.kubeletFlags,
      qps: config.qps,
      burst: config.burst,
      logger,
    });
    const delay = monitorEventLoopDelay({ resolution: 10 });
    const onMessage = (msg: HollowRunnerMessage) => {
      const reply = (r: HollowRunnerReply) => process.send?.(r);
      if (msg.type === 'scale') {
        const t0 = performance.now();
        runner.scaleTo(msg.nodes, config.startIntervalMs).then(
          () => reply({ type: 'scaled', nodes: runner.list().length, ms: performance.now() - t0 }),
          (err) => reply({ type: 'scaled', nodes: runner.list().length, ms: performance.now() - t0, error: (err as Error).message }),
        );
      } else if (msg.type === 'stats') {
        const m = process.memoryUsage();
        const ms = (ns: number) => Math.round(ns / 1e4) / 100;
        reply({
          type: 'stats', nodes: runner.list().length, rssBytes: m.rss, heapUsedBytes: m.heapUsed,
          eventLoopDelayMs: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
        });
        delay.reset();
      }
    };
    return {
      async start() {
        delay.enable();
        process.on('message', onMessage);
        await runner.scaleTo(config.nodes, config.startIntervalMs);
        logger.info({ nodes: runner.list().length, rootDir: config.rootDir }, 'Hollow nodes started');
        process.send?.({ type: 'scaled', nodes: runner.list().length, ms: 0 } satisfies HollowRunnerReply);
      },
      async stop() {
        process.off('message', onMessage);
        delay.disable();
        await runner.stop();
      },
    };
  },
});
