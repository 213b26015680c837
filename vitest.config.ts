import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // DynamoDB Local + fauxqs on free ports; the functions' settings in process.env (see the file).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // The functions' JSON logs would drown the report; LOG_LEVEL=INFO npm test shows them.
    env: { POWERTOOLS_LOG_LEVEL: process.env.LOG_LEVEL ?? 'SILENT' },
    // CI reads .vitest.json after `npm test`: always write it.
    reporters: ['default', 'json'],
    outputFile: '.vitest.json',
    // `npm test` measures coverage of the product's code; CI fails below these floors (set at what the suite reaches).
    coverage: {
      provider: 'v8',
      include: ['lib/**/*.ts', 'functions/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
      reportOnFailure: true,
      thresholds: { statements: 93, branches: 86, functions: 95, lines: 95 },
    },
  },
});
