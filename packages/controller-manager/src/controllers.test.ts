import { describe, expect, it } from 'vitest';
import { configFromFlags } from './config.js';
import { CONTROLLER_SERVICE_ACCOUNTS, isControllerEnabled, KNOWN_CONTROLLERS } from './controller-names.js';
import { CONTROLLERS } from './controllers.js';

describe('--controllers', () => {
  it('follows upstream: * enables all, -name disables, first mention wins, aliases work', () => {
    expect(isControllerEnabled('deployment-controller', ['*'])).toBe(true);
    expect(isControllerEnabled('deployment-controller', ['*', '-deployment-controller'])).toBe(false);
    expect(isControllerEnabled('deployment-controller', ['-deployment', '*'])).toBe(false);
    expect(isControllerEnabled('deployment-controller', ['replicaset'])).toBe(false);
    expect(isControllerEnabled('replicaset-controller', ['replicaset'])).toBe(true);
    expect(isControllerEnabled('garbage-collector-controller', ['garbagecollector', '-garbagecollector'])).toBe(true);
    expect(KNOWN_CONTROLLERS).toContain('namespace-controller');
  });

  it('has a start function for every known name and no other', () => {
    expect(Object.keys(CONTROLLERS).sort()).toEqual([...KNOWN_CONTROLLERS].sort());
  });

  it("names upstream's service account for every controller", () => {
    expect(Object.keys(CONTROLLER_SERVICE_ACCOUNTS).sort()).toEqual([...KNOWN_CONTROLLERS].sort());
    expect(CONTROLLER_SERVICE_ACCOUNTS['garbage-collector-controller']).toBe('generic-garbage-collector');
    expect(CONTROLLER_SERVICE_ACCOUNTS['daemonset-controller']).toBe('daemon-set-controller');
    expect(CONTROLLER_SERVICE_ACCOUNTS['node-lifecycle-controller']).toBe('node-controller');
  });
});

describe('configFromFlags', () => {
  it('parses upstream flags with defaults', () => {
    const c = configFromFlags(['--kubeconfig=/k', '--controllers=*,-garbagecollector', '--leader-elect=false', '--root-ca-file', '/ca.crt', '--leader-elect-lease-duration=20s']);
    expect(c).toMatchObject({
      kubeconfig: '/k',
      controllers: ['*', '-garbagecollector'],
      leaderElect: false,
      rootCAFile: '/ca.crt',
      leaderElectLeaseDurationMs: 20_000,
      leaderElectResourceName: 'kube-controller-manager',
      leaderElectResourceNamespace: 'kube-system',
      concurrentReplicasetSyncs: 5,
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(configFromFlags(['--leader-elect']).leaderElect).toBe(true);
    expect(configFromFlags([]).leaderElect).toBe(true);
    expect(configFromFlags([]).useServiceAccountCredentials).toBe(false);
    expect(configFromFlags(['--use-service-account-credentials']).useServiceAccountCredentials).toBe(true);
  });

  it('rejects unknown controllers, bad booleans and inconsistent lease timings', () => {
    expect(() => configFromFlags(['--controllers=*,nope'])).toThrow('"nope" is not in the list of known controllers');
    expect(() => configFromFlags(['--leader-elect=maybe'])).toThrow('invalid argument "maybe" for "--leader-elect" flag');
    expect(() => configFromFlags(['--leader-elect-lease-duration=5s'])).toThrow('leaseDuration must be greater than renewDeadline');
    expect(() => configFromFlags(['--bogus=1'])).toThrow(/bogus/);
  });
});
