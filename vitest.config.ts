import { defineConfig } from 'vitest/config';

const shared = {
  setupFiles: ['tests/helpers/setup.ts'],
  testTimeout: 30_000,
  hookTimeout: 60_000,
};

const WHOLE_WATCH = 'tests/hostile/watch-malformed.test.ts';

export default defineConfig({
  test: {
    // Real servers are started per file on ports the OS picks; two cores here.
    maxWorkers: 2,
    projects: [
      // `npm run test:fast`: what to run while editing (unit tests, hostile input, the ledger's rules in memory).
      // Except the one hostile test that runs a whole watch against the lab (~20 s): it is in 'full'.
      {
        test: {
          ...shared,
          name: 'fast',
          include: ['tests/unit/**/*.test.ts', 'tests/hostile/**/*.test.ts'],
          exclude: [WHOLE_WATCH],
        },
      },
      // The rest: real servers (Apache, nginx, DNS, dynalite, the lab), the CLI as a process, packaging.
      {
        test: {
          ...shared,
          name: 'full',
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/unit/**', 'tests/hostile/**/!(watch-malformed).test.ts'],
        },
      },
    ],
  },
});
