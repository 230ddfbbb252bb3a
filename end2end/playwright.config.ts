import { defineConfig } from '@playwright/test';

// `cargo xtask test` starts the server on a free port and passes its address here.
const baseURL = process.env.PLUMBLINE_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  testDir: './tests',
  // One server with one database: run serially so tests never race each other.
  workers: 1,
  fullyParallel: false,
  // One retry, reported as "flaky" by Playwright and by xtask: Leptos SSR very rarely stalls a
  // streamed page (upstream leptos-rs/leptos#4647; see docs/adr/0006).
  retries: 1,
  timeout: 120_000,
  expect: { timeout: 10_000 },
  // `list` for people reading the log; `json` for xtask, which counts passed/failed from it.
  reporter: [['list'], ['json', { outputFile: 'test-results/results.json' }]],
  use: {
    baseURL,
    trace: 'off',
    // Debian's Chromium: nothing downloads a browser on these machines.
    // The networking flags stop Chromium from trying to reach the internet.
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [{ name: 'chromium' }],
});
