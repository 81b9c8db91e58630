import { describe, expect, it } from 'vitest';
import { RestClient } from '@kubelab/client';
import { parseFlagSet } from './flags.js';
import { LEADER_ELECTION_FLAGS, leaderElectionDefaults, leaderElectionFromFlags, runLeaderElected, validateLeaderElection } from './leader-election.js';

describe('leader election', () => {
  it("parses upstream's flags over a component's defaults and validates the timings", () => {
    const d = leaderElectionDefaults('kube-scheduler');
    const { flags } = parseFlagSet(['--leader-elect-lease-duration=20s', '--leader-elect-resource-namespace=lab'], LEADER_ELECTION_FLAGS);
    const c = leaderElectionFromFlags(flags, d);
    expect(c).toEqual({ ...d, leaderElectLeaseDurationMs: 20_000, leaderElectResourceNamespace: 'lab' });
    expect(validateLeaderElection(c)).toEqual([]);
    expect(validateLeaderElection({ ...d, leaderElectLeaseDurationMs: 5_000 })).toEqual(['leaseDuration must be greater than renewDeadline']);
    expect(validateLeaderElection({ ...d, leaderElect: false, leaderElectLeaseDurationMs: 5_000 })).toEqual([]);
  });

  it('leads at once without --leader-elect, and stop() ends the lead', async () => {
    const signals: AbortSignal[] = [];
    const run = runLeaderElected({
      config: { ...leaderElectionDefaults('x'), leaderElect: false },
      client: new RestClient({ server: 'https://127.0.0.1:1' }),
      identity: 'me',
      lead: (signal) => void signals.push(signal),
      lost: () => {
        throw new Error('not leading through an election: nothing to lose');
      },
    });
    expect(run.isLeader()).toBe(true);
    expect(signals).toHaveLength(1);
    await run.stop();
    expect(signals[0]!.aborted).toBe(true);
    expect(run.isLeader()).toBe(false);
  });
});
