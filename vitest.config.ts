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
        test: { name: 'unit', include: ['packages/*/src/**/*.test.ts'], exclude: ['**/*.int.test.ts', '**/node_modules/**'], environment: 'node' },
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
        },
      },
    ],
  },
});
