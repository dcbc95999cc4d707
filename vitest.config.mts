import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // mocha suites on the vscode API run inside VS Code (npm run test:vscode / test:e2e), not under vitest
    exclude: ['test/vscode/**', 'test/e2e/**', '**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    // the default summary, then one line naming what was skipped and how to run it
    reporters: ['default', './test/support/skipped-reporter.ts'],
  },
});
