import { defineConfig } from 'vitest/config';
import { defaultServerConditions } from 'vite';

// Workspace packages resolve to their TypeScript source through the custom `source` export condition,
// so no build step is needed to test.
const conditions = ['source', ...defaultServerConditions];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['source'] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
          environment: 'node',
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          // *.int.test.ts beside the code and test/integration start real processes (etcd, apiserver, kubectl).
          include: ['packages/*/src/**/*.int.test.ts', 'test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          // A whole lab (control plane, netns nodes with containerd, kubelets) per file; needs root.
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 480_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        extends: true,
        test: {
          name: 'compose',
          // The Docker lab (hack/compose: dockerd, images built offline, etcd x3, 2 apiservers, 3 nodes); runs after
          // the other projects so that its containers do not compete with the netns labs. `npm run test:compose` alone.
          // (Groups run in order: unit files in parallel, then integration and e2e one file at a time, then this.)
          include: ['test/compose/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          // `up` may build the images first: debootstrap alone takes about 2 minutes.
          hookTimeout: 900_000,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
