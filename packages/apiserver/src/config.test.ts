import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFromFlags, kubeletClientConfig } from './config.js';

const BASE = ['--tls-cert-file=/pki/apiserver.crt', '--tls-private-key-file=/pki/apiserver.key'];

describe('kube-apiserver flags', () => {
  it('takes the kubelet client flags and reads their files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'apiserver-config-'));
    try {
      writeFileSync(join(dir, 'c.crt'), 'CERT');
      writeFileSync(join(dir, 'c.key'), 'KEY');
      const c = configFromFlags([...BASE, `--kubelet-client-certificate=${dir}/c.crt`, `--kubelet-client-key=${dir}/c.key`]);
      expect(c.kubeletClientCertificate).toBe(`${dir}/c.crt`);
      expect(c.kubeletCertificateAuthority).toBeUndefined();
      expect(kubeletClientConfig(c)).toEqual({ certPem: 'CERT', keyPem: 'KEY', caPem: undefined });
      expect(kubeletClientConfig(configFromFlags(BASE))).toEqual({ certPem: undefined, keyPem: undefined, caPem: undefined });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('wants the kubelet client certificate and key together', () => {
    expect(() => configFromFlags([...BASE, '--kubelet-client-certificate=/a.crt'])).toThrow(
      '--kubelet-client-certificate and --kubelet-client-key must be specified together',
    );
  });
});
