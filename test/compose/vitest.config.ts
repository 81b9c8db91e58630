// The compose lab's vitest project (upstream: kind's e2e runs against a cluster in containers), run with `npm run test:compose`.
// Kept out of `npm test`: it needs Docker (hack/compose starts dockerd) and builds images on its first run.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    name: 'compose',
    include: ['test/compose/**/*.test.ts'],
    environment: 'node',
    testTimeout: 180_000,
    // `up` may build the images first: debootstrap alone takes about 2 minutes.
    hookTimeout: 900_000,
    fileParallelism: false,
  },
});
