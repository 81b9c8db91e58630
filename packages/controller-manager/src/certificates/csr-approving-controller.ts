// The CSR approving controller (upstream's pkg/controller/certificates/approver, "csrapproving"):
// kubelet client certificate requests are approved when the requester may create
// certificatesigningrequests/nodeclient (a new node with a bootstrap token) or, for the node's own
// name, certificatesigningrequests/selfnodeclient (renewal), as a SubjectAccessReview says.
import { rfc3339 } from '@kubelab/api';
import type { KubeObject } from '@kubelab/api';
import { realClock, WorkQueue, type Clock, type Informer, type Logger } from '@kubelab/client';
import { runQueue, type RunnableController } from '../controller-utils.js';
import { approvalState, KUBE_APISERVER_CLIENT_KUBELET, kubeletClientProblem, parseCSR, requestFacts } from './csr.js';

export interface SubjectAccessReviewSpec {
  user?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  resourceAttributes: { group: string; resource: string; subresource: string; verb: string };
}

export interface CSRApprovingControllerOptions {
  csrInformer: Informer<KubeObject>;
  /** Creates a SubjectAccessReview and returns status.allowed. */
  subjectAccessReview(spec: SubjectAccessReviewSpec): Promise<boolean>;
  /** Writes the conditions through certificatesigningrequests/approval. */
  updateApproval(csr: KubeObject): Promise<unknown>;
  clock?: Clock;
  logger?: Logger;
}

interface Recognizer {
  recognize(csr: KubeObject, cn: string): boolean;
  subresource: string;
  message: string;
}

const RECOGNIZERS: Recognizer[] = [
  {
    recognize: (csr, cn) => csr.spec?.username === cn,
    subresource: 'selfnodeclient',
    message: 'Auto approving self kubelet client certificate after SubjectAccessReview.',
  },
  {
    recognize: () => true,
    subresource: 'nodeclient',
    message: 'Auto approving kubelet client certificate after SubjectAccessReview.',
  },
];

export class CSRApprovingController implements RunnableController {
  readonly name = 'certificatesigningrequest-approving-controller';
  readonly queue: WorkQueue<string>;
  private readonly clock: Clock;

  constructor(private readonly opts: CSRApprovingControllerOptions) {
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
    const { approved, denied } = approvalState(cached);
    if (approved || denied || cached.status?.certificate) return;
    if (cached.spec?.signerName !== KUBE_APISERVER_CLIENT_KUBELET) return;
    let cn: string;
    try {
      const facts = requestFacts(parseCSR(cached));
      if (kubeletClientProblem(facts, cached.spec?.usages ?? [])) return;
      cn = facts.commonName;
    } catch (err) {
      this.opts.logger?.info?.({ object: name, err: (err as Error).message }, 'Unable to parse certificate request');
      return;
    }
    for (const r of RECOGNIZERS) {
      if (!r.recognize(cached, cn)) continue;
      const allowed = await this.opts.subjectAccessReview({
        user: cached.spec.username,
        uid: cached.spec.uid,
        groups: cached.spec.groups,
        extra: cached.spec.extra,
        resourceAttributes: { group: 'certificates.k8s.io', resource: 'certificatesigningrequests', subresource: r.subresource, verb: 'create' },
      });
      if (!allowed) continue;
      const csr = structuredClone(cached);
      const ts = rfc3339(this.clock.now());
      csr.status ??= {};
      csr.status.conditions = [
        ...(csr.status.conditions ?? []),
        { type: 'Approved', status: 'True', reason: 'AutoApproved', message: r.message, lastUpdateTime: ts, lastTransitionTime: ts },
      ];
      await this.opts.updateApproval(csr);
      this.opts.logger?.info?.({ object: name, subresource: r.subresource }, 'Approved certificate request');
      return;
    }
  }
}
