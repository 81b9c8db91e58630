// The "0/3 nodes are available: ..." message (upstream's FitError.Error): a histogram of every
// node's rejection reasons, "<count> <reason>" sorted as strings, then any PreFilter and PostFilter
// (preemption) message, each ending in a period.
import type { Status } from './status.js';

export const NO_NODE_AVAILABLE = (n: number) => `0/${n} nodes are available`;
export const ERR_NO_NODES_AVAILABLE = 'no nodes available to schedule pods';

export interface Diagnosis {
  /** Status of each node that was filtered out. */
  nodeToStatus: Map<string, Status>;
  /** Plugins that rejected the pod (decides which cluster events retry it). */
  unschedulablePlugins: Set<string>;
  preFilterMsg?: string;
  postFilterMsg?: string;
}

export function reasonHistogram(statuses: Iterable<Status>): string[] {
  const counts = new Map<string, number>();
  for (const s of statuses) for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].map(([r, n]) => `${n} ${r}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export class FitError extends Error {
  constructor(
    readonly numAllNodes: number,
    readonly diagnosis: Diagnosis,
  ) {
    super('');
    this.name = 'FitError';
    this.message = this.describe();
  }

  /** Recomputes the message (after PostFilter added its part). */
  refresh(): this {
    this.message = this.describe();
    return this;
  }

  describe(): string {
    let msg = NO_NODE_AVAILABLE(this.numAllNodes) + ':';
    const d = this.diagnosis;
    if (d.preFilterMsg) msg += ` ${d.preFilterMsg}.`;
    else {
      const hist = reasonHistogram(d.nodeToStatus.values());
      if (hist.length) msg += ` ${hist.join(', ')}.`;
    }
    if (d.postFilterMsg) msg += ` ${d.postFilterMsg}.`;
    return msg;
  }
}
