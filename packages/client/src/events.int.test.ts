// Both event broadcasters against a real apiserver: repeats become a count (core/v1) or a series
// (events.k8s.io/v1), as kubectl shows them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findResource, type KubeObject } from '@kubelab/api';
import { startApiServer, type ApiServerInstance } from '../../../test/fixtures/apiserver.js';
import { startEtcd, type EtcdInstance } from '../../../test/fixtures/etcd.js';
import { kubectl } from '../../../test/fixtures/kubectl.js';
import { realClock } from './clock.js';
import { EventBroadcaster } from './events.js';
import { EventsV1Broadcaster } from './events-v1.js';
import { loadKubeconfig } from './kubeconfig.js';
import { RestClient } from './rest.js';

const EVENTS = findResource('', 'v1', 'events')!;

let etcd: EtcdInstance;
let api: ApiServerInstance;
let client: RestClient;

beforeAll(async () => {
  etcd = await startEtcd();
  api = await startApiServer({ etcdEndpoint: etcd.endpoint });
  client = new RestClient(loadKubeconfig(api.kubeconfig));
});

afterAll(async () => {
  client?.close();
  await api?.stop();
  await etcd?.stop();
});

describe('event broadcasters against the apiserver', () => {
  it('counts repeats of a core/v1 event and of an events.k8s.io series, as kubectl shows', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'default', uid: 'f3b1c0de-0000-4000-8000-000000000001' },
    } as KubeObject;
    const core = new EventBroadcaster({ client, clock: realClock });
    const kubelet = core.newRecorder({ component: 'kubelet', host: 'node-1' });
    for (let i = 0; i < 3; i++) kubelet.eventf(pod, 'Warning', 'BackOff', 'Back-off restarting failed container %s in pod %s', 'c', 'web');
    await core.flush();
    const v1 = new EventsV1Broadcaster({ client, clock: realClock, hostname: 'host-1' });
    const scheduler = v1.newRecorder('default-scheduler');
    for (let i = 0; i < 4; i++) scheduler.eventf(pod, undefined, 'Warning', 'FailedScheduling', 'Scheduling', '0/1 nodes are available: 1 Insufficient cpu.');
    await v1.flush();
    v1.shutdown();
    core.shutdown();

    const events = (await client.resource(EVENTS, 'default').list({ fieldSelector: 'involvedObject.name=web' })).items;
    const byReason = Object.fromEntries(events.map((e) => [e.reason, e]));
    expect(events).toHaveLength(2);
    expect(byReason.BackOff).toMatchObject({
      count: 3,
      message: 'Back-off restarting failed container c in pod web',
      source: { component: 'kubelet', host: 'node-1' },
      involvedObject: { kind: 'Pod', name: 'web', uid: pod.metadata.uid },
    });
    // Written twice (create, then series count 2); the later repeats wait for the series' next write.
    expect(byReason.FailedScheduling).toMatchObject({
      series: { count: 2 },
      reportingComponent: 'default-scheduler',
      reportingInstance: 'default-scheduler-host-1',
      action: 'Scheduling',
    });

    // kubectl's view of them: source, count.
    const out = await kubectl(api.kubeconfig, ['get', 'events', '-o', 'wide', '--field-selector', 'involvedObject.name=web']);
    expect(out.stdout).toMatch(/BackOff\s+pod\/web\s+.*kubelet, node-1\s+.*\s3\s/);
  });
});
