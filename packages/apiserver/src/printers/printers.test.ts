import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@kubelab/api';
import { printerFor, type TablePrinter } from './index.js';

const now = new Date('2024-06-01T12:00:00Z');
const created = '2024-05-29T12:00:00Z'; // 3d before now

function obj(kind: string, fields: Record<string, unknown>, meta: Record<string, unknown> = {}): KubeObject {
  return { kind, metadata: { name: 'x', namespace: 'default', creationTimestamp: created, ...meta }, ...fields } as KubeObject;
}

function header(p: TablePrinter): string[] {
  return p.columns.map((c) => (c.priority ? `${c.name}*` : c.name));
}

const template = {
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }, { name: 'log', image: 'busybox' }] },
};

describe('workload printers', () => {
  it('deployment mid-rollout', () => {
    const p = printerFor('apps', 'deployments');
    expect(header(p)).toEqual(['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers*', 'Images*', 'Selector*']);
    const d = obj('Deployment', {
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web', tier: 'fe' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['qa', 'prod'] }] },
        template,
      },
      status: { replicas: 4, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2 },
    }, { name: 'web' });
    expect(p.row(d, now)).toEqual(['web', '2/3', 1, 2, '3d', 'nginx,log', 'nginx:1.25,busybox', 'app=web,env in (prod,qa),tier=fe']);
  });

  it('replica set, daemon set, stateful set, replication controller', () => {
    const rs = printerFor('apps', 'replicasets');
    expect(header(rs)).toEqual(['Name', 'Desired', 'Current', 'Ready', 'Age', 'Containers*', 'Images*', 'Selector*']);
    expect(rs.row(obj('ReplicaSet', { spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template }, status: { replicas: 2, readyReplicas: 1 } }), now))
      .toEqual(['x', 2, 2, 1, '3d', 'nginx,log', 'nginx:1.25,busybox', 'app=web']);

    const ds = printerFor('apps', 'daemonsets');
    expect(header(ds)).toEqual(['Name', 'Desired', 'Current', 'Ready', 'Up-to-date', 'Available', 'Node Selector', 'Age', 'Containers*', 'Images*', 'Selector*']);
    const dsObj = obj('DaemonSet', {
      spec: { selector: { matchLabels: { app: 'proxy' } }, template: { spec: { containers: [{ name: 'p', image: 'kp' }], nodeSelector: { 'kubernetes.io/os': 'linux' } } } },
      status: { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2 },
    });
    expect(ds.row(dsObj, now)).toEqual(['x', 3, 3, 2, 3, 2, 'kubernetes.io/os=linux', '3d', 'p', 'kp', 'app=proxy']);

    const sts = printerFor('apps', 'statefulsets');
    expect(header(sts)).toEqual(['Name', 'Ready', 'Age', 'Containers*', 'Images*']);
    expect(sts.row(obj('StatefulSet', { spec: { replicas: 3, template }, status: { readyReplicas: 3 } }), now)).toEqual(['x', '3/3', '3d', 'nginx,log', 'nginx:1.25,busybox']);

    const rc = printerFor('', 'replicationcontrollers');
    expect(rc.row(obj('ReplicationController', { spec: { replicas: 1, selector: { app: 'web' }, template }, status: { replicas: 1 } }), now))
      .toEqual(['x', 1, 1, 0, '3d', 'nginx,log', 'nginx:1.25,busybox', 'app=web']);
  });

  it('jobs and cron jobs', () => {
    const job = printerFor('batch', 'jobs');
    expect(header(job)).toEqual(['Name', 'Status', 'Completions', 'Duration', 'Age', 'Containers*', 'Images*', 'Selector*']);
    const done = obj('Job', {
      spec: { completions: 1, parallelism: 1, selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } }, template },
      status: { succeeded: 1, startTime: '2024-06-01T11:00:00Z', completionTime: '2024-06-01T11:00:42Z', conditions: [{ type: 'Complete', status: 'True' }] },
    });
    expect(job.row(done, now).slice(0, 5)).toEqual(['x', 'Complete', '1/1', '42s', '3d']);
    const running = obj('Job', { spec: { parallelism: 3, template }, status: { startTime: '2024-06-01T11:57:00Z' } });
    expect(job.row(running, now).slice(1, 4)).toEqual(['Running', '0/1 of 3', '3m']);
    expect(job.row(obj('Job', { spec: { template } }), now).slice(1, 4)).toEqual(['Running', '0/1', '']);

    const cj = printerFor('batch', 'cronjobs');
    expect(header(cj)).toEqual(['Name', 'Schedule', 'Timezone', 'Suspend', 'Active', 'Last Schedule', 'Age', 'Containers*', 'Images*', 'Selector*']);
    const cron = obj('CronJob', {
      spec: { schedule: '*/5 * * * *', suspend: false, jobTemplate: { spec: { template } } },
      status: { active: [{ name: 'x-1' }], lastScheduleTime: '2024-06-01T11:55:00Z' },
    });
    expect(cj.row(cron, now)).toEqual(['x', '*/5 * * * *', '<none>', 'False', 1, '5m', '3d', 'nginx,log', 'nginx:1.25,busybox', '<none>']);
  });

  it('controller revisions name their controller kind.group/name', () => {
    const p = printerFor('apps', 'controllerrevisions');
    expect(header(p)).toEqual(['Name', 'Controller', 'Revision', 'Age']);
    const cr = obj('ControllerRevision', { revision: 2 }, {
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'kube-proxy', uid: 'u', controller: true }],
    });
    expect(p.row(cr, now)).toEqual(['x', 'daemonset.apps/kube-proxy', 2, '3d']);
    expect(p.row(obj('ControllerRevision', { revision: 1 }), now)[1]).toBe('<none>');
  });
});

describe('service printer', () => {
  const p = printerFor('', 'services');
  it('has upstream columns', () => {
    expect(header(p)).toEqual(['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector*']);
  });
  it('prints a NodePort service', () => {
    const svc = obj('Service', {
      spec: {
        type: 'NodePort',
        clusterIP: '10.96.12.34',
        clusterIPs: ['10.96.12.34'],
        selector: { app: 'web' },
        ports: [
          { name: 'http', port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' },
          { name: 'dns', port: 53, nodePort: 30053, protocol: 'UDP' },
        ],
      },
    }, { name: 'web' });
    expect(p.row(svc, now)).toEqual(['web', 'NodePort', '10.96.12.34', '<none>', '80:30080/TCP,53:30053/UDP', '3d', 'app=web']);
  });
  it('prints ClusterIP, headless, LoadBalancer and ExternalName services', () => {
    const cip = obj('Service', { spec: { type: 'ClusterIP', clusterIP: '10.96.0.1', ports: [{ port: 443, protocol: 'TCP' }], externalIPs: ['1.2.3.4', '5.6.7.8'] } });
    expect(p.row(cip, now).slice(1, 5)).toEqual(['ClusterIP', '10.96.0.1', '1.2.3.4,5.6.7.8', '443/TCP']);
    const headless = obj('Service', { spec: { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'] } });
    expect(p.row(headless, now).slice(1, 5)).toEqual(['ClusterIP', 'None', '<none>', '<none>']);
    expect(p.row(headless, now)[6]).toBe('<none>');
    const lbPending = obj('Service', { spec: { type: 'LoadBalancer', clusterIP: '10.96.0.9', ports: [{ port: 80, nodePort: 31000, protocol: 'TCP' }] } });
    expect(p.row(lbPending, now).slice(3, 5)).toEqual(['<pending>', '80:31000/TCP']);
    const lb = obj('Service', {
      spec: { type: 'LoadBalancer', externalIPs: ['9.9.9.9'] },
      status: { loadBalancer: { ingress: [{ ip: '203.0.113.20' }, { hostname: 'lb.example.com' }, { ip: '203.0.113.10' }] } },
    });
    expect(p.row(lb, now)[3]).toBe('203.0.113.10,203.0.113.20,lb.example.com,9.9.9.9');
    const ext = obj('Service', { spec: { type: 'ExternalName', externalName: 'db.example.com' } });
    expect(p.row(ext, now).slice(1, 4)).toEqual(['ExternalName', '<none>', 'db.example.com']);
  });
});

describe('node printer', () => {
  const p = printerFor('', 'nodes');
  const node = obj('Node', {
    spec: {},
    status: {
      conditions: [
        { type: 'MemoryPressure', status: 'False' },
        { type: 'Ready', status: 'True' },
      ],
      addresses: [{ type: 'Hostname', address: 'cp-1' }, { type: 'InternalIP', address: '192.168.1.10' }],
      nodeInfo: {
        kubeletVersion: 'v1.32.0',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        kernelVersion: '6.1.0-18-amd64',
        containerRuntimeVersion: 'containerd://1.6.20',
      },
    },
  }, { name: 'cp-1', labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/hostname': 'cp-1' } });

  it('has upstream columns', () => {
    expect(header(p)).toEqual(['Name', 'Status', 'Roles', 'Age', 'Version', 'Internal-IP*', 'External-IP*', 'OS-Image*', 'Kernel-Version*', 'Container-Runtime*']);
  });
  it('prints a ready control-plane node', () => {
    expect(p.row(node, now)).toEqual([
      'cp-1', 'Ready', 'control-plane', '3d', 'v1.32.0', '192.168.1.10', '<none>',
      'Debian GNU/Linux 12 (bookworm)', '6.1.0-18-amd64', 'containerd://1.6.20',
    ]);
  });
  it('prints NotReady, Unknown, SchedulingDisabled and several roles', () => {
    const cordoned = { ...node, spec: { unschedulable: true }, status: { ...node.status, conditions: [{ type: 'Ready', status: 'Unknown' }] } };
    expect(p.row(cordoned, now)[1]).toBe('NotReady,SchedulingDisabled');
    const bare = obj('Node', { status: {} }, { labels: { 'kubernetes.io/role': 'worker', 'node-role.kubernetes.io/infra': '', 'node-role.kubernetes.io/': '' } });
    expect(p.row(bare, now)).toEqual(['x', 'Unknown', 'infra,worker', '3d', '', '<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']);
    expect(p.row(obj('Node', {}), now)[2]).toBe('<none>');
  });
});

describe('event printers', () => {
  it('prints a core event with all wide cells', () => {
    const p = printerFor('', 'events');
    expect(header(p)).toEqual(['Last Seen', 'Type', 'Reason', 'Object', 'Subobject*', 'Source*', 'Message', 'First Seen*', 'Count*', 'Name*']);
    expect(p.columns.find((c) => c.name === 'Name')?.format).toBe('name');
    const ev = obj('Event', {
      involvedObject: { kind: 'Pod', name: 'web-0', namespace: 'default', fieldPath: 'spec.containers{app}' },
      reason: 'BackOff',
      message: 'Back-off restarting failed container\n',
      source: { component: 'kubelet', host: 'node-1' },
      firstTimestamp: '2024-06-01T11:30:00Z',
      lastTimestamp: '2024-06-01T11:58:00Z',
      count: 7,
      type: 'Warning',
    }, { name: 'web-0.17d0' });
    expect(p.row(ev, now)).toEqual([
      '2m', 'Warning', 'BackOff', 'pod/web-0', 'spec.containers{app}', 'kubelet, node-1',
      'Back-off restarting failed container', '30m', 7, 'web-0.17d0',
    ]);
  });

  it('falls back to eventTime, reporting controller and count 1', () => {
    const p = printerFor('', 'events');
    const ev = obj('Event', {
      involvedObject: { kind: 'Node', name: '' },
      reason: 'RegisteredNode',
      message: 'Node registered',
      eventTime: '2024-06-01T11:59:30.123456Z',
      reportingComponent: 'node-controller',
      type: 'Normal',
    });
    // 29.88s ago: whole seconds are truncated, as Go's int(d.Seconds()) does.
    expect(p.row(ev, now)).toEqual(['29s', 'Normal', 'RegisteredNode', 'node', '', 'node-controller', 'Node registered', '29s', 1, 'x']);
  });

  it('prints an events.k8s.io event like a core one, using its series', () => {
    const p = printerFor('events.k8s.io', 'events');
    expect(p.columns).toEqual(printerFor('', 'events').columns);
    const ev = obj('Event', {
      regarding: { kind: 'Deployment', name: 'web' },
      reason: 'ScalingReplicaSet',
      note: 'Scaled up replica set web-abc to 3',
      eventTime: '2024-06-01T11:00:00.000000Z',
      series: { count: 4, lastObservedTime: '2024-06-01T11:50:00.000000Z' },
      reportingController: 'deployment-controller',
      reportingInstance: 'cm-1',
      type: 'Normal',
    });
    expect(p.row(ev, now)).toEqual([
      '10m', 'Normal', 'ScalingReplicaSet', 'deployment/web', '', 'deployment-controller, cm-1',
      'Scaled up replica set web-abc to 3', '60m', 4, 'x',
    ]);
  });
});

describe('other core printers', () => {
  it('namespaces', () => {
    const p = printerFor('', 'namespaces');
    expect(header(p)).toEqual(['Name', 'Status', 'Age']);
    expect(p.row(obj('Namespace', { status: { phase: 'Terminating' } }, { name: 'dev' }), now)).toEqual(['dev', 'Terminating', '3d']);
  });

  it('endpoints list up to three addresses', () => {
    const p = printerFor('', 'endpoints');
    expect(header(p)).toEqual(['Name', 'Endpoints', 'Age']);
    const ep = obj('Endpoints', {
      subsets: [
        { addresses: [{ ip: '10.244.1.2' }, { ip: '10.244.2.3' }], ports: [{ port: 8080 }, { port: 9090 }] },
        { addresses: [{ ip: 'fd00::1' }] },
      ],
    });
    expect(p.row(ep, now)[1]).toBe('10.244.1.2:8080,10.244.2.3:8080,10.244.1.2:9090 + 2 more...');
    expect(p.row(obj('Endpoints', {}), now)[1]).toBe('<none>');
    expect(p.row(obj('Endpoints', { subsets: [{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 80 }] }] }), now)[1]).toBe('[fd00::1]:80');
  });

  it('configmaps, secrets, service accounts', () => {
    expect(printerFor('', 'configmaps').row(obj('ConfigMap', { data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }), now)).toEqual(['x', 3, '3d']);
    expect(header(printerFor('', 'secrets'))).toEqual(['Name', 'Type', 'Data', 'Age']);
    expect(printerFor('', 'secrets').row(obj('Secret', { type: 'Opaque', data: { u: 'YQ==' } }), now)).toEqual(['x', 'Opaque', 1, '3d']);
    expect(header(printerFor('', 'serviceaccounts'))).toEqual(['Name', 'Secrets', 'Age']);
    expect(printerFor('', 'serviceaccounts').row(obj('ServiceAccount', {}), now)).toEqual(['x', 0, '3d']);
  });

  it('resource quotas split requests and limits', () => {
    const p = printerFor('', 'resourcequotas');
    expect(header(p)).toEqual(['Name', 'Request', 'Limit', 'Age']);
    const rq = obj('ResourceQuota', {
      status: {
        hard: { pods: '10', 'requests.cpu': '2', 'limits.memory': '2Gi', 'limits.cpu': '4' },
        used: { pods: '3', 'requests.cpu': '500m', 'limits.cpu': '1' },
      },
    });
    expect(p.row(rq, now)).toEqual(['x', 'pods: 3/10, requests.cpu: 500m/2', 'limits.cpu: 1/4, limits.memory: 0/2Gi', '3d']);
  });
});

describe('discovery, coordination and rbac printers', () => {
  it('endpoint slices', () => {
    const p = printerFor('discovery.k8s.io', 'endpointslices');
    expect(header(p)).toEqual(['Name', 'AddressType', 'Ports', 'Endpoints', 'Age']);
    const es = obj('EndpointSlice', {
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 80 }, { name: 'named' }, {}],
      endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2', '10.0.0.3'] }, { addresses: ['10.0.0.4'] }],
    });
    expect(p.row(es, now)).toEqual(['x', 'IPv4', '80,named,*', '10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...', '3d']);
    expect(p.row(obj('EndpointSlice', { addressType: 'IPv4', endpoints: [] }), now).slice(2, 4)).toEqual(['<unset>', '<unset>']);
  });

  it('leases', () => {
    const p = printerFor('coordination.k8s.io', 'leases');
    expect(header(p)).toEqual(['Name', 'Holder', 'Age']);
    expect(p.row(obj('Lease', { spec: { holderIdentity: 'cm-1_abc' } }, { name: 'kube-controller-manager' }), now)).toEqual(['kube-controller-manager', 'cm-1_abc', '3d']);
  });

  it('role bindings and cluster role bindings', () => {
    const rb = printerFor('rbac.authorization.k8s.io', 'rolebindings');
    expect(header(rb)).toEqual(['Name', 'Role', 'Age', 'Users*', 'Groups*', 'ServiceAccounts*']);
    const b = obj('RoleBinding', {
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [
        { kind: 'User', name: 'alice' },
        { kind: 'User', name: 'bob' },
        { kind: 'Group', name: 'devs' },
        { kind: 'ServiceAccount', name: 'ci', namespace: 'tools' },
      ],
    });
    expect(rb.row(b, now)).toEqual(['x', 'ClusterRole/view', '3d', 'alice, bob', 'devs', 'tools/ci']);
    const crb = printerFor('rbac.authorization.k8s.io', 'clusterrolebindings');
    expect(crb.columns[3]!.description).toBe('Users in the clusterRoleBinding');
  });
});

describe('certificate signing request printer', () => {
  it('shows signer, requestor, requested duration and the condition as kubectl get csr does', () => {
    const p = printerFor('certificates.k8s.io', 'certificatesigningrequests');
    expect(header(p)).toEqual(['Name', 'Age', 'SignerName', 'Requestor', 'RequestedDuration', 'Condition']);
    const spec = { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', username: 'system:bootstrap:abcdef' };
    const pending = obj('CertificateSigningRequest', { spec }, { name: 'node-csr-1', namespace: undefined });
    expect(p.row(pending, now)).toEqual(['node-csr-1', '3d', spec.signerName, 'system:bootstrap:abcdef', '<none>', 'Pending']);
    const issued = obj('CertificateSigningRequest', {
      spec: { ...spec, expirationSeconds: 86_400 },
      status: { conditions: [{ type: 'Approved', status: 'True' }], certificate: 'LS0t' },
    });
    expect(p.row(issued, now).slice(4)).toEqual(['24h', 'Approved,Issued']);
    const denied = obj('CertificateSigningRequest', { spec, status: { conditions: [{ type: 'Denied' }, { type: 'Failed' }] } });
    expect(p.row(denied, now)[5]).toBe('Denied,Failed');
  });
});

describe('default printer', () => {
  it('serves roles, clusterroles, limitranges and unknown resources with Name and Created At', () => {
    for (const [g, r] of [
      ['rbac.authorization.k8s.io', 'roles'],
      ['rbac.authorization.k8s.io', 'clusterroles'],
      ['', 'limitranges'],
      ['example.com', 'widgets'],
    ] as const) {
      const p = printerFor(g, r);
      expect(p.columns.map((c) => [c.name, c.type, c.format, c.priority])).toEqual([
        ['Name', 'string', 'name', 0],
        ['Created At', 'date', '', 0],
      ]);
    }
    const p = printerFor('rbac.authorization.k8s.io', 'roles');
    expect(p.row(obj('Role', {}, { name: 'reader', creationTimestamp: '2024-05-29T12:00:00.000Z' }), now)).toEqual(['reader', '2024-05-29T12:00:00Z']);
  });

  it('does not confuse a core resource name used by another group', () => {
    expect(printerFor('example.com', 'pods').columns.map((c) => c.name)).toEqual(['Name', 'Created At']);
  });
});
