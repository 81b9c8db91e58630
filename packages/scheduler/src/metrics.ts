// Scheduler metrics with upstream's names (pkg/scheduler/metrics), on a registry of our own.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class SchedulerMetrics {
  readonly registry = new Registry();
  /** The queue's lengths, read when scheduler_pending_pods is collected (not on every queue change). */
  pendingPodsSource?: () => Record<string, number>;
  readonly scheduleAttempts = new Counter({
    name: 'scheduler_schedule_attempts_total',
    help: 'Number of attempts to schedule pods, by the result. \'unschedulable\' means a pod could not be scheduled, while \'error\' means an internal scheduler problem.',
    labelNames: ['result', 'profile'],
    registers: [this.registry],
  });
  readonly attemptDuration = new Histogram({
    name: 'scheduler_scheduling_attempt_duration_seconds',
    help: 'Scheduling attempt latency in seconds (scheduling algorithm + binding)',
    labelNames: ['result', 'profile'],
    buckets: [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192, 16.384],
    registers: [this.registry],
  });
  readonly pendingPods = new Gauge({
    name: 'scheduler_pending_pods',
    help:
      "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of " +
      "pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods that the scheduler attempted to " +
      "schedule and failed; 'gated' is the number of unschedulable pods that the scheduler never attempted to " +
      "schedule because they are gated.",
    labelNames: ['queue'],
    registers: [this.registry],
    collect: () => {
      const lengths = this.pendingPodsSource?.();
      if (lengths) for (const [queue, n] of Object.entries(lengths)) this.pendingPods.set({ queue }, n);
    },
  });
  readonly podSchedulingAttempts = new Histogram({
    name: 'scheduler_pod_scheduling_attempts',
    help: 'Number of attempts to successfully schedule a pod.',
    buckets: [1, 2, 4, 8, 16],
    registers: [this.registry],
  });
  readonly preemptionAttempts = new Counter({
    name: 'scheduler_preemption_attempts_total',
    help: 'Total preemption attempts in the cluster till now',
    registers: [this.registry],
  });
  readonly preemptionVictims = new Histogram({
    name: 'scheduler_preemption_victims',
    help: 'Number of selected preemption victims',
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [this.registry],
  });
  readonly algorithmDuration = new Histogram({
    name: 'scheduler_scheduling_algorithm_duration_seconds',
    help: 'Scheduling algorithm latency in seconds',
    buckets: [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024],
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
