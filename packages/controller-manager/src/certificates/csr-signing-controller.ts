// The CSR signing controller (upstream's pkg/controller/certificates/signer, "csrsigning"): approved
// requests for the kubernetes.io/kube-apiserver-client-kubelet, kubernetes.io/kubelet-serving and
// kubernetes.io/kube-apiserver-client signers get a certificate from the cluster CA; requests that
// break their signer's rules get a Failed condition instead.
import { rfc3339 } from '@kubelab/api';
import type { KubeObject } from '@kubelab/api';
import { realClock, WorkQueue, type Clock, type Informer, type Logger } from '@kubelab/client';
import { runQueue, type RunnableController } from '../controller-utils.js';
import {
  apiserverClientProblem,
  approvalState,
  isFailed,
  KUBE_APISERVER_CLIENT,
  KUBE_APISERVER_CLIENT_KUBELET,
  KUBELET_SERVING,
  kubeletClientProblem,
  kubeletServingProblem,
  parseCSR,
  requestFacts,
  signRequest,
  type CertificateAuthority,
  type RequestFacts,
} from './csr.js';

const RULES: Record<string, (f: RequestFacts, usages: readonly string[]) => string | undefined> = {
  [KUBE_APISERVER_CLIENT_KUBELET]: kubeletClientProblem,
  [KUBELET_SERVING]: kubeletServingProblem,
  [KUBE_APISERVER_CLIENT]: apiserverClientProblem,
};

export interface CSRSigningControllerOptions {
  csrInformer: Informer<KubeObject>;
  /** The cluster CA (--cluster-signing-cert-file / --cluster-signing-key-file), loaded lazily. */
  authority: () => Promise<CertificateAuthority>;
  /** Writes status (certificate or a Failed condition) through certificatesigningrequests/status. */
  updateStatus(csr: KubeObject): Promise<unknown>;
  /** --cluster-signing-duration. */
  maxDurationMs: number;
  clock?: Clock;
  logger?: Logger;
}

export class CSRSigningController implements RunnableController {
  readonly name = 'certificatesigningrequest-signing-controller';
  readonly queue: WorkQueue<string>;
  private readonly clock: Clock;

  constructor(private readonly opts: CSRSigningControllerOptions) {
    this.clock = opts.clock ?? realClock;
    this.queue = new WorkQueue<string>({ name: this.name, clock: this.clock });
    opts.csrInformer.addEventHandler({ onAdd: (c) => this.queue.add(c.metadata.name!), onUpdate: (_o, c) => this.queue.add(c.metadata.name!) });
  }

  async run(workers: number, signal: AbortSignal): Promise<void> {
    await runQueue(this.queue, workers, (key) => this.sync(key), signal, this.opts.logger);
  }

  async sync(name: string): Promise<void> {
    const cached = this.opts.csrInformer.lister.get('', name);
    if (!cached) return;
    const rule = RULES[cached.spec?.signerName];
    if (!rule) return;
    if (cached.status?.certificate || isFailed(cached)) return;
    const { approved, denied } = approvalState(cached);
    if (!approved || denied) return;
    const csr = structuredClone(cached);
    const usages: string[] = csr.spec.usages ?? [];
    let problem: string | undefined;
    let req;
    try {
      req = parseCSR(csr);
      problem = rule(requestFacts(req), usages);
    } catch (err) {
      problem = `unable to parse csr: ${(err as Error).message}`;
    }
    if (problem || !req) {
      const now = this.clock.now();
      const ts = rfc3339(now);
      csr.status ??= {};
      csr.status.conditions = [
        ...(csr.status.conditions ?? []),
        { type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message: problem, lastUpdateTime: ts, lastTransitionTime: ts },
      ];
      this.opts.logger?.info?.({ object: name, reason: problem }, 'Refusing to sign certificate request');
      await this.opts.updateStatus(csr);
      return;
    }
    const pem = await signRequest(await this.opts.authority(), req, usages, {
      now: new Date(this.clock.now()),
      maxDurationMs: this.opts.maxDurationMs,
      expirationSeconds: csr.spec.expirationSeconds,
    });
    csr.status ??= {};
    csr.status.certificate = Buffer.from(pem).toString('base64');
    await this.opts.updateStatus(csr);
    this.opts.logger?.info?.({ object: name, signerName: csr.spec.signerName }, 'Signed certificate request');
  }
}
