import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure logic, no I/O, runs anywhere) and `integration` (talks to the
// real PostgreSQL, Kafka, Connect and registry; its global setup finds or starts the stack).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['kit/**/*.test.ts', '*-svc/**/*.test.ts', 'gateway-sim/**/*.test.ts', 'tools/**/*.test.ts', 'tests/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          globalSetup: ['tests/harness/global-setup.ts'],
          // One stack on two cores: integration files run one at a time.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
