import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1';
import { DefaultTolerationSeconds } from './default-toleration-seconds.js';
import { attrs, pod } from './testing.js';

describe('DefaultTolerationSeconds', () => {
  it('adds not-ready and unreachable NoExecute tolerations for 300s', async () => {
    const a = attrs('pods', 'CREATE', pod('p'));
    await new DefaultTolerationSeconds().admit(a);
    expect((a.object as unknown as Pod).spec!.tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
  });

  it('keeps a toleration the pod states itself, and adds nothing to a pod tolerating everything', async () => {
    const own = { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 };
    const a = attrs('pods', 'CREATE', pod('p', { tolerations: [own] }));
    await new DefaultTolerationSeconds().admit(a);
    expect((a.object as unknown as Pod).spec!.tolerations).toEqual([own, { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]);
    const b = attrs('pods', 'CREATE', pod('p', { tolerations: [{ operator: 'Exists' }] }));
    await new DefaultTolerationSeconds().admit(b);
    expect((b.object as unknown as Pod).spec!.tolerations).toEqual([{ operator: 'Exists' }]);
  });

  it('does not touch pod updates', async () => {
    const a = attrs('pods', 'UPDATE', pod('p'), { oldObject: pod('p') });
    await new DefaultTolerationSeconds().admit(a);
    expect((a.object as unknown as Pod).spec!.tolerations).toBeUndefined();
  });
});
