import type { ConfigMap, Container, Pod, Secret, Service } from 'kubernetes-types/core/v1';
import { describe, expect, it } from 'vitest';
import { generateContainerConfig, linuxContainerResources, makeMounts, milliCPUToShares } from './container-config.js';
import { ContainerConfigError, expand, makeEnvironmentVariables, serviceEnvVars, type EnvSources } from './env.js';
import { computePodQOS, containerOOMScoreAdjust } from './qos.js';

const GiB = 1024 ** 3;

function sources(opts: { configMaps?: ConfigMap[]; secrets?: Secret[]; services?: Service[] } = {}): EnvSources {
  return {
    getConfigMap: async (ns, name) => opts.configMaps?.find((c) => c.metadata?.namespace === ns && c.metadata?.name === name),
    getSecret: async (ns, name) => opts.secrets?.find((c) => c.metadata?.namespace === ns && c.metadata?.name === name),
    listServices: async () => opts.services ?? [],
  };
}

function pod(containers: Container[], extra: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return {
    metadata: { name: 'web', namespace: 'shop', uid: 'u-1', labels: { app: 'web', tier: 'fe' }, annotations: { a: 'b' } },
    spec: { nodeName: 'node-1', serviceAccountName: 'sa', containers, ...extra },
  };
}

const svc = (ns: string, name: string, ip: string, ports: NonNullable<Service['spec']>['ports']): Service => ({
  metadata: { name, namespace: ns },
  spec: { clusterIP: ip, ports },
});

describe('$(VAR) expansion', () => {
  const vars = new Map([['VAR_A', 'A'], ['VAR_B', 'B'], ['EMPTY', '']]);
  const lookup = (n: string) => vars.get(n);
  it.each([
    ['$(VAR_A)', 'A'],
    ['___$(VAR_B)___', '___B___'],
    ['$(VAR_A)-$(VAR_B)', 'A-B'],
    ['$(UNKNOWN)', '$(UNKNOWN)'],
    ['$$(VAR_A)', '$(VAR_A)'],
    ['$$$(VAR_A)', '$A'],
    ['$(VAR_A', '$(VAR_A'],
    ['$VAR_A', '$VAR_A'],
    ['x$', 'x$'],
    ['$(EMPTY)x', 'x'],
    ['$()', '$()'],
  ])('%s -> %s', (input, want) => {
    expect(expand(input, lookup)).toBe(want);
  });
});

describe('service environment variables', () => {
  it('renders host, port and docker link variables', () => {
    const env = serviceEnvVars([svc('shop', 'redis-master', '10.0.0.11', [{ name: 'redis', port: 6379 }, { name: 'dns', port: 53, protocol: 'UDP' }])]);
    expect(Object.fromEntries(env.map((e) => [e.name, e.value]))).toEqual({
      REDIS_MASTER_SERVICE_HOST: '10.0.0.11',
      REDIS_MASTER_SERVICE_PORT: '6379',
      REDIS_MASTER_SERVICE_PORT_REDIS: '6379',
      REDIS_MASTER_SERVICE_PORT_DNS: '53',
      REDIS_MASTER_PORT: 'tcp://10.0.0.11:6379',
      REDIS_MASTER_PORT_6379_TCP: 'tcp://10.0.0.11:6379',
      REDIS_MASTER_PORT_6379_TCP_PROTO: 'tcp',
      REDIS_MASTER_PORT_6379_TCP_PORT: '6379',
      REDIS_MASTER_PORT_6379_TCP_ADDR: '10.0.0.11',
      REDIS_MASTER_PORT_53_UDP: 'udp://10.0.0.11:53',
      REDIS_MASTER_PORT_53_UDP_PROTO: 'udp',
      REDIS_MASTER_PORT_53_UDP_PORT: '53',
      REDIS_MASTER_PORT_53_UDP_ADDR: '10.0.0.11',
    });
  });

  it("includes the pod's namespace services unless enableServiceLinks is false, and always kubernetes", async () => {
    const services = [
      svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443 }]),
      svc('shop', 'cart', '10.96.0.20', [{ port: 80 }]),
      svc('other', 'orders', '10.96.0.30', [{ port: 80 }]),
      svc('shop', 'headless', 'None', [{ port: 80 }]),
    ];
    const names = async (p: Pod) => (await makeEnvironmentVariables(p, p.spec!.containers[0]!, sources({ services }), {})).map((e) => e.name);
    const withLinks = await names(pod([{ name: 'c' }]));
    expect(withLinks).toContain('CART_SERVICE_HOST');
    expect(withLinks).toContain('KUBERNETES_SERVICE_HOST');
    expect(withLinks).not.toContain('ORDERS_SERVICE_HOST');
    expect(withLinks.some((n) => n.startsWith('HEADLESS'))).toBe(false);
    const without = await names(pod([{ name: 'c' }], { enableServiceLinks: false }));
    expect(without).not.toContain('CART_SERVICE_HOST');
    expect(without).toContain('KUBERNETES_PORT_443_TCP_ADDR');
  });
});

describe('makeEnvironmentVariables', () => {
  const configMaps: ConfigMap[] = [{ metadata: { name: 'cfg', namespace: 'shop' }, data: { LOG_LEVEL: 'debug', 'mode': 'fast' } }];
  const secrets: Secret[] = [{ metadata: { name: 'db', namespace: 'shop' }, data: { password: Buffer.from('s3cret').toString('base64') } }];

  it('resolves literals with expansion, field refs, resource refs, config maps, secrets and envFrom with a prefix', async () => {
    const c: Container = {
      name: 'app',
      resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { memory: '128Mi' } },
      envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }],
      env: [
        { name: 'A', value: 'a' },
        { name: 'B', value: '$(A)-b-$(CFG_mode)-$(NOPE)' },
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
        { name: 'TIER', valueFrom: { fieldRef: { fieldPath: "metadata.labels['tier']" } } },
        { name: 'LABELS', valueFrom: { fieldRef: { fieldPath: 'metadata.labels' } } },
        { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
        { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'POD_IPS', valueFrom: { fieldRef: { fieldPath: 'status.podIPs' } } },
        { name: 'CPU_REQ_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
        { name: 'CPU_REQ', valueFrom: { resourceFieldRef: { resource: 'requests.cpu' } } },
        { name: 'MEM_LIM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'CPU_LIM', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
        { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'LOG_LEVEL' } } },
        { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'missing', optional: true } } },
        { name: 'OPT2', valueFrom: { configMapKeyRef: { name: 'nocfg', key: 'x', optional: true } } },
        { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
      ],
    };
    const p = pod([c]);
    const env = await makeEnvironmentVariables(p, c, sources({ configMaps, secrets }), {
      hostIPs: ['172.30.0.10'], podIPs: ['10.244.1.5', 'fd00::5'], nodeAllocatable: { cpu: '2', memory: '4Gi' },
    });
    expect(Object.fromEntries(env.map((e) => [e.name, e.value]))).toEqual({
      CFG_LOG_LEVEL: 'debug',
      CFG_mode: 'fast',
      A: 'a',
      B: 'a-b-fast-$(NOPE)',
      POD_NAME: 'web',
      NS: 'shop',
      UID: 'u-1',
      TIER: 'fe',
      LABELS: 'app="web"\ntier="fe"',
      NODE: 'node-1',
      SA: 'sa',
      HOST_IP: '172.30.0.10',
      POD_IP: '10.244.1.5',
      POD_IPS: '10.244.1.5,fd00::5',
      CPU_REQ_M: '250',
      CPU_REQ: '1',
      MEM_LIM_MI: '128',
      CPU_LIM: '2',
      LEVEL: 'debug',
      PASSWORD: 's3cret',
    });
    expect(env.slice(0, 4).map((e) => e.name)).toEqual(['CFG_LOG_LEVEL', 'CFG_mode', 'A', 'B']);
  });

  it('fails on a missing required config map, key or secret', async () => {
    const run = (env: Container['env'], envFrom?: Container['envFrom']) => {
      const c: Container = { name: 'app', env, envFrom };
      return makeEnvironmentVariables(pod([c]), c, sources({ configMaps, secrets }), {});
    };
    await expect(run([{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'nope' } } }])).rejects.toThrow('couldn\'t find key nope in ConfigMap shop/cfg');
    await expect(run([{ name: 'X', valueFrom: { configMapKeyRef: { name: 'gone', key: 'k' } } }])).rejects.toThrow('configmap "gone" not found');
    await expect(run([{ name: 'X', valueFrom: { secretKeyRef: { name: 'db', key: 'user' } } }])).rejects.toThrow("couldn't find key user in Secret shop/db");
    await expect(run([], [{ secretRef: { name: 'gone' } }])).rejects.toBeInstanceOf(ContainerConfigError);
    await expect(run([], [{ secretRef: { name: 'gone', optional: true } }])).resolves.toEqual([]);
  });
});

describe('QoS', () => {
  const c = (requests?: Record<string, string>, limits?: Record<string, string>): Container => ({ name: 'c', resources: { requests, limits } });
  it('classifies pods as upstream GetPodQOS', () => {
    expect(computePodQOS(pod([c()]))).toBe('BestEffort');
    // Requests not defaulted from limits (the apiserver does that): the pod's requests and limits differ.
    expect(computePodQOS(pod([c(undefined, { cpu: '1', memory: '1Gi' })]))).toBe('Burstable');
    expect(computePodQOS(pod([c({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })]))).toBe('Guaranteed');
    expect(computePodQOS(pod([c({ cpu: '1000m', memory: '1024Mi' }, { cpu: '1', memory: '1Gi' })]))).toBe('Guaranteed');
    expect(computePodQOS(pod([c({ cpu: '500m', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })]))).toBe('Burstable');
    expect(computePodQOS(pod([c(undefined, { cpu: '1' })]))).toBe('Burstable');
    expect(computePodQOS(pod([c({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' }), c()]))).toBe('Burstable');
    expect(computePodQOS(pod([c({ cpu: '0' })]))).toBe('BestEffort');
  });

  it('sets oom_score_adj per class', () => {
    const g = pod([c({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })]);
    expect(containerOOMScoreAdjust(g, g.spec!.containers[0]!, 4 * GiB)).toBe(-997);
    const be = pod([c()]);
    expect(containerOOMScoreAdjust(be, be.spec!.containers[0]!, 4 * GiB)).toBe(1000);
    const b = pod([c({ memory: '1Gi' })]);
    expect(containerOOMScoreAdjust(b, b.spec!.containers[0]!, 4 * GiB)).toBe(750);
    const tiny = pod([c({ cpu: '100m' })]);
    expect(containerOOMScoreAdjust(tiny, tiny.spec!.containers[0]!, 4 * GiB)).toBe(999);
    const huge = pod([c({ memory: '4Gi' })]);
    expect(containerOOMScoreAdjust(huge, huge.spec!.containers[0]!, 4 * GiB)).toBe(3);
  });
});

describe('resources -> CRI', () => {
  it('maps requests and limits to shares, quota, period and memory', () => {
    const p = pod([{ name: 'c', resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } } }]);
    expect(linuxContainerResources(p, p.spec!.containers[0]!, 4 * GiB)).toEqual({
      cpuShares: 256, cpuPeriod: 100000, cpuQuota: 50000, memoryLimitInBytes: 128 * 1024 ** 2, oomScoreAdj: 985,
    });
  });
  it('defaults the cpu request to the limit, keeps 2 shares minimum and a 1 ms quota minimum', () => {
    const p = pod([{ name: 'c', resources: { limits: { cpu: '1m' } } }]);
    expect(linuxContainerResources(p, p.spec!.containers[0]!, 4 * GiB)).toMatchObject({ cpuShares: 2, cpuQuota: 1000, cpuPeriod: 100000 });
    const be = pod([{ name: 'c' }]);
    const r = linuxContainerResources(be, be.spec!.containers[0]!, 4 * GiB);
    expect(r).toEqual({ cpuShares: 2, cpuPeriod: 100000, cpuQuota: 0, oomScoreAdj: 1000 });
    expect(milliCPUToShares(2000)).toBe(2048);
  });
});

describe('generateContainerConfig', () => {
  it('builds metadata, image, expanded command and args, mounts and the log path', async () => {
    const c: Container = {
      name: 'app', image: 'busybox', command: ['sh', '-c', 'echo $(GREETING) $$(HOME)'], args: ['$(GREETING)'], workingDir: '/work',
      env: [{ name: 'GREETING', value: 'hello' }],
      volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'data', mountPath: '/logs', subPath: 'logs', readOnly: true }],
    };
    const cfg = await generateContainerConfig(pod([c]), c, {
      restartCount: 3, volumePaths: new Map([['data', '/var/lib/kubelet/pods/u-1/volumes/kubernetes.io~empty-dir/data']]), envSources: sources(), runtime: {},
      memoryCapacity: 4 * GiB,
    });
    expect(cfg.metadata).toEqual({ name: 'app', attempt: 3 });
    expect(cfg.image.image).toBe('busybox');
    expect(cfg.command).toEqual(['sh', '-c', 'echo hello $(HOME)']);
    expect(cfg.args).toEqual(['hello']);
    expect(cfg.workingDir).toBe('/work');
    expect(cfg.logPath).toBe('app/3.log');
    expect(cfg.envs).toEqual([{ key: 'GREETING', value: 'hello' }]);
    expect(cfg.mounts).toEqual([
      { containerPath: '/data', hostPath: '/var/lib/kubelet/pods/u-1/volumes/kubernetes.io~empty-dir/data', readonly: false, propagation: 'PROPAGATION_PRIVATE' },
      { containerPath: '/logs', hostPath: '/var/lib/kubelet/pods/u-1/volumes/kubernetes.io~empty-dir/data/logs', readonly: true, propagation: 'PROPAGATION_PRIVATE' },
    ]);
    expect(cfg.labels).toMatchObject({ 'io.kubernetes.container.name': 'app', 'io.kubernetes.pod.uid': 'u-1' });
    expect(cfg.annotations!['io.kubernetes.container.restartCount']).toBe('3');
    expect(cfg.linux!.securityContext!.namespaceOptions!.pid).toBe('CONTAINER');
  });

  it('refuses a mount of an unknown volume or an escaping subPath', () => {
    expect(() => makeMounts({ name: 'c', volumeMounts: [{ name: 'x', mountPath: '/x' }] }, new Map(), [])).toThrow('cannot find volume "x" to mount into container "c"');
    expect(() => makeMounts({ name: 'c', volumeMounts: [{ name: 'x', mountPath: '/x', subPath: '../etc' }] }, new Map([['x', '/v']]), [])).toThrow(ContainerConfigError);
  });
});
