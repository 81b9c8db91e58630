import { describe, expect, it } from 'vitest';
import { configFromFlags, parseTaint } from './config.js';

describe('kubelet flags', () => {
  it('takes the TLS bootstrap flags; --cert-dir defaults to <root-dir>/pki', () => {
    const c = configFromFlags(['--kubeconfig=/var/lib/kubelet/kubelet.conf', '--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf', '--root-dir=/n1']);
    expect(c).toMatchObject({ bootstrapKubeconfig: '/etc/kubernetes/bootstrap-kubelet.conf', certDir: '/n1/pki' });
    expect(configFromFlags(['--kubeconfig=k', '--cert-dir=/certs']).certDir).toBe('/certs');
    expect(configFromFlags(['--kubeconfig=k']).bootstrapKubeconfig).toBe('');
    expect(() => configFromFlags(['--bootstrap-kubeconfig=b'])).toThrow('--kubeconfig is required');
  });

  it("applies upstream's defaults", () => {
    const c = configFromFlags(['--kubeconfig=/etc/kubernetes/kubelet.conf', '--hostname-override=Worker-1']);
    expect(c).toMatchObject({
      kubeconfig: '/etc/kubernetes/kubelet.conf',
      nodeName: 'worker-1',
      containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
      rootDir: '/var/lib/kubelet',
      podLogsDir: '/var/log/pods',
      clusterDomain: '',
      clusterDNS: [],
      maxPods: 110,
      port: 10250,
      healthzPort: 10248,
      healthzBindAddress: '127.0.0.1',
      nodeStatusUpdateFrequencyMs: 10_000,
      nodeStatusReportFrequencyMs: 300_000,
      nodeLeaseDurationSeconds: 40,
      runtimeRequestTimeoutMs: 120_000,
      address: '0.0.0.0',
      tlsCertFile: '',
      clientCAFile: '',
      authenticationTokenWebhook: false,
      anonymousAuth: false,
      authorizationMode: 'AlwaysAllow',
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("takes the API server's flags: serving, authentication and authorization", () => {
    const c = configFromFlags([
      '--kubeconfig=k', '--port=10251', '--address=172.30.0.11', '--tls-cert-file=/pki/kubelet.crt', '--tls-private-key-file=/pki/kubelet.key',
      '--client-ca-file=/pki/ca.crt', '--authentication-token-webhook', '--anonymous-auth=true', '--authorization-mode=Webhook',
    ]);
    expect(c).toMatchObject({
      port: 10251,
      address: '172.30.0.11',
      tlsCertFile: '/pki/kubelet.crt',
      tlsPrivateKeyFile: '/pki/kubelet.key',
      clientCAFile: '/pki/ca.crt',
      authenticationTokenWebhook: true,
      anonymousAuth: true,
      authorizationMode: 'Webhook',
    });
    expect(() => configFromFlags(['--kubeconfig=k', '--authorization-mode=RBAC'])).toThrow(/--authorization-mode\) "RBAC": must be AlwaysAllow or Webhook/);
    expect(() => configFromFlags(['--kubeconfig=k', '--tls-cert-file=/a.crt'])).toThrow('--tls-cert-file and --tls-private-key-file must be given together');
  });

  it('parses labels, taints, lists and durations as pflag does', () => {
    const c = configFromFlags([
      '--kubeconfig', 'k.conf', '--node-ip=172.30.0.11', '--container-runtime-endpoint=/run/kubelab/n1/containerd.sock',
      '--node-labels=tier=web,zone=a', '--register-with-taints=dedicated=gpu:NoSchedule,spot:PreferNoSchedule',
      '--cluster-dns=10.96.0.10', '--cluster-domain=cluster.local', '--node-status-update-frequency=2s', '--runtime-request-timeout=30s',
      '--kubelab-pod-logs-dir=/var/log/kubelab/n1/pods', '--cgroup-root=/kubelab/n1', '--max-pods=20',
    ]);
    expect(c.nodeIP).toBe('172.30.0.11');
    expect(c.nodeLabels).toEqual({ tier: 'web', zone: 'a' });
    expect(c.registerWithTaints).toEqual([{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }, { key: 'spot', effect: 'PreferNoSchedule' }]);
    expect(c.clusterDNS).toEqual(['10.96.0.10']);
    expect(c.nodeStatusUpdateFrequencyMs).toBe(2000);
    expect(c.runtimeRequestTimeoutMs).toBe(30_000);
    expect(c.podLogsDir).toBe('/var/log/kubelab/n1/pods');
    expect(c.maxPods).toBe(20);
  });

  it('rejects bad flags and values with messages naming the flag', () => {
    expect(() => configFromFlags(['--bogus'])).toThrow('unknown flag: --bogus');
    expect(() => configFromFlags(['--kubeconfig=k', '--port=70000'])).toThrow(/--port\) 70000 must be between 1 and 65535/);
    expect(() => configFromFlags(['--kubeconfig=k', '--max-pods=x'])).toThrow('invalid argument "x" for "--max-pods" flag');
    expect(() => configFromFlags(['--kubeconfig=k', '--node-labels=novalue'])).toThrow('novalue must be formatted as key=value');
    expect(() => configFromFlags([])).toThrow('--kubeconfig is required');
    expect(() => parseTaint('a=b:Sometimes')).toThrow('invalid taint effect: Sometimes');
    expect(() => parseTaint('nocolon')).toThrow('invalid taint spec: nocolon');
  });
});
