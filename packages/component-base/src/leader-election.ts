// Leader election as every replicated component runs it (upstream: component-base's
// LeaderElectionConfiguration flags and client-go's leaderelection.RunOrDie): the flags, and a runner
// that calls `lead` once the Lease is held and `lost` when it is lost after leading.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { LeaderElector, leaseClientFor, type Clock, type RestClient } from '@kubelab/client';
import type { FlagDefs, ParsedFlags } from './flags.js';

export interface LeaderElectionConfig {
  leaderElect: boolean;
  leaderElectLeaseDurationMs: number;
  leaderElectRenewDeadlineMs: number;
  leaderElectRetryPeriodMs: number;
  leaderElectResourceName: string;
  leaderElectResourceNamespace: string;
}

export const LEADER_ELECTION_FLAGS = {
  'leader-elect': { kind: 'bool', usage: 'Start a leader election client and gain leadership before executing the main loop.' },
  'leader-elect-lease-duration': { kind: 'duration', usage: 'How long non-leader candidates wait after observing a renewal before trying to acquire leadership.' },
  'leader-elect-renew-deadline': { kind: 'duration', usage: 'How long the acting leader retries refreshing leadership before giving it up.' },
  'leader-elect-retry-period': { kind: 'duration', usage: 'How long clients wait between attempts to acquire and renew leadership.' },
  'leader-elect-resource-name': { kind: 'string', usage: 'The name of the Lease object used for locking during leader election.' },
  'leader-elect-resource-namespace': { kind: 'string', usage: 'The namespace of the Lease object used for locking during leader election.' },
} as const satisfies FlagDefs;

/** Upstream's defaults (15s/10s/2s, a Lease in kube-system named after the component). */
export function leaderElectionDefaults(resourceName: string): LeaderElectionConfig {
  return {
    leaderElect: true,
    leaderElectLeaseDurationMs: 15_000,
    leaderElectRenewDeadlineMs: 10_000,
    leaderElectRetryPeriodMs: 2_000,
    leaderElectResourceName: resourceName,
    leaderElectResourceNamespace: 'kube-system',
  };
}

/** The leader election part of a config from parsed flags over `d`. */
export function leaderElectionFromFlags(f: ParsedFlags<typeof LEADER_ELECTION_FLAGS>, d: LeaderElectionConfig): LeaderElectionConfig {
  return {
    leaderElect: f['leader-elect'] ?? d.leaderElect,
    leaderElectLeaseDurationMs: f['leader-elect-lease-duration'] ?? d.leaderElectLeaseDurationMs,
    leaderElectRenewDeadlineMs: f['leader-elect-renew-deadline'] ?? d.leaderElectRenewDeadlineMs,
    leaderElectRetryPeriodMs: f['leader-elect-retry-period'] ?? d.leaderElectRetryPeriodMs,
    leaderElectResourceName: f['leader-elect-resource-name'] || d.leaderElectResourceName,
    leaderElectResourceNamespace: f['leader-elect-resource-namespace'] || d.leaderElectResourceNamespace,
  };
}

/** Upstream's validation of the timings (only when --leader-elect). */
export function validateLeaderElection(c: LeaderElectionConfig): string[] {
  if (!c.leaderElect) return [];
  const errs: string[] = [];
  if (c.leaderElectLeaseDurationMs <= c.leaderElectRenewDeadlineMs) errs.push('leaseDuration must be greater than renewDeadline');
  if (c.leaderElectRenewDeadlineMs <= c.leaderElectRetryPeriodMs) errs.push('renewDeadline must be greater than retryPeriod');
  if (!(c.leaderElectRetryPeriodMs > 0)) errs.push('retryPeriod must be greater than zero');
  return errs;
}

/** Upstream's identity: hostname_uuid. */
export function leaderElectionIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

export interface LeaderElectedOptions {
  config: LeaderElectionConfig;
  client: RestClient;
  identity: string;
  /** Runs the component's work while leading; `signal` aborts when leadership ends. */
  lead(signal: AbortSignal): void;
  /** Leadership was lost after leading (not on stop()): upstream exits the process. */
  lost(): void;
  clock?: Clock;
  logger?: Logger;
}

export interface LeaderElected {
  isLeader(): boolean;
  /** Stops campaigning (releasing the Lease if held) and waits for the elector to end. */
  stop(): Promise<void>;
}

/** Leads at once without --leader-elect; otherwise campaigns for the Lease first. */
export function runLeaderElected(opts: LeaderElectedOptions): LeaderElected {
  const c = opts.config;
  let leading = false;
  let stopped = false;
  if (!c.leaderElect) {
    const abort = new AbortController();
    leading = true;
    opts.lead(abort.signal);
    return {
      isLeader: () => leading && !stopped,
      stop: async () => {
        stopped = true;
        abort.abort();
      },
    };
  }
  const elector = new LeaderElector({
    lease: leaseClientFor(opts.client, c.leaderElectResourceNamespace),
    leaseName: c.leaderElectResourceName,
    identity: opts.identity,
    leaseDurationMs: c.leaderElectLeaseDurationMs,
    renewDeadlineMs: c.leaderElectRenewDeadlineMs,
    retryPeriodMs: c.leaderElectRetryPeriodMs,
    releaseOnCancel: true,
    clock: opts.clock,
    logger: opts.logger,
    callbacks: {
      onStartedLeading: (signal) => {
        leading = true;
        opts.logger?.info({ identity: opts.identity }, 'Started leading');
        opts.lead(signal);
      },
      onStoppedLeading: () => {
        const was = leading;
        leading = false;
        if (was && !stopped) {
          opts.logger?.error({ identity: opts.identity }, 'Leaderelection lost');
          opts.lost();
        }
      },
      onNewLeader: (id) => {
        if (id !== opts.identity) opts.logger?.info({ leader: id }, 'New leader elected');
      },
    },
  });
  const done = elector.run();
  return {
    isLeader: () => leading,
    stop: async () => {
      stopped = true;
      elector.stop();
      await done;
    },
  };
}
