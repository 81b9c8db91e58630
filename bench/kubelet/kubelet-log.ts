// The kubelets' own view of each bench pod's start, from their logs: the pod startup latency tracker's
// "Observed pod startup duration" line (packages/kubelet/src/pod-startup-tracker.ts) carries, per pod, the
// milliseconds from when the kubelet saw the pod to each step of its first start. The bench turns them
// into the time each step took (its kubelet-side breakdown), with the kubelet's clock only.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PodStartupStep } from '@kubelab/kubelet';
import { type Summary, summarize } from './pods.js';

export interface KubeletStartup {
  /** namespace/name */
  pod: string;
  node: string;
  /** From the kubelet seeing the pod to the Running status written. */
  observedRunningMs: number;
  /** ms since the kubelet saw the pod, per step. */
  steps: Partial<Record<PodStartupStep, number>>;
}

type From = PodStartupStep | 'observed';

/**
 * The spans reported, each [from, to step, label]; `from` is a step ('observed' = when the kubelet saw the
 * pod) or several, the latest of them (the sandbox is created while the volumes are set up; the image is
 * checked once both are done).
 */
export const KUBELET_SPANS: readonly [From | From[], PodStartupStep, string][] = [
  ['observed', 'workerStarted', 'kubelet saw the pod -> its worker syncs'],
  ['observed', 'pendingStatusWritten', '  (-> first status written, Pending; not waited for)'],
  ['workerStarted', 'volumesMounted', '  -> volumes set up (token, kube-root-ca.crt)'],
  ['workerStarted', 'sandboxCreated', '  -> RunPodSandbox answered (meanwhile)'],
  [['volumesMounted', 'sandboxCreated'], 'imageReady', '  -> both, and the image checked (ImageStatus)'],
  ['imageReady', 'containerCreated', '  -> CreateContainer answered'],
  ['containerCreated', 'containerStarted', '  -> StartContainer answered'],
  ['containerStarted', 'runningStatusWritten', '  -> Running status written (runtime status, PATCH)'],
  ['observed', 'runningStatusWritten', 'kubelet saw the pod -> Running status written'],
];

/** The startup lines of the given nodes' kubelet logs (KUBELAB_STATE/logs/kubelet-NODE.log). */
export function readKubeletStartups(state: string, nodes: string[]): KubeletStartup[] {
  const out: KubeletStartup[] = [];
  for (const node of nodes) {
    let text: string;
    try {
      text = readFileSync(join(state, 'logs', `kubelet-${node}.log`), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line.includes('Observed pod startup duration')) continue;
      try {
        const e = JSON.parse(line) as { pod?: string; observedRunningMs?: number; steps?: KubeletStartup['steps'] };
        if (e.pod && e.steps) out.push({ pod: e.pod, node, observedRunningMs: e.observedRunningMs ?? Number.NaN, steps: e.steps });
      } catch {
        // not a JSON line
      }
    }
  }
  return out;
}

/** Per span, the summary over the pods (of `namespace`) whose name starts with `prefix`. */
export function kubeletSpans(startups: KubeletStartup[], namespace: string, prefix: string): { label: string; summary: Summary }[] {
  const mine = startups.filter((s) => s.pod.startsWith(`${namespace}/${prefix}`));
  const at = (s: KubeletStartup, step: From) => (step === 'observed' ? 0 : s.steps[step]);
  return KUBELET_SPANS.map(([from, to, label]) => ({
    label,
    summary: summarize(
      mine.flatMap((s) => {
        const starts = (Array.isArray(from) ? from : [from]).map((f) => at(s, f));
        const b = s.steps[to];
        if (b === undefined || starts.some((a) => a === undefined)) return [];
        return [b - Math.max(...(starts as number[]))];
      }),
    ),
  }));
}
