import { expect, test, type Page } from '@playwright/test';
import { watchErrors, hydrated, invitationLink } from './support';

// A founder claims all traffic is on HTTPS; the consultant points the HTTP probe at a plain-http
// API (Plumbline itself, on loopback: `cargo xtask test` allow-lists 127.0.0.0/8 for probes),
// watches the run's progress, sees http.tls fail, the answer marked "Contradicted" under claimed
// versus observed, and the callout on the engagement page.

const ENCRYPTION = 'deployment-infrastructure.encryption'; // its probe_checks include http.tls

test('the HTTP probe contradicts a founder who claims HTTPS everywhere', async ({ page, browser, baseURL }) => {
  const errors = watchErrors(page);
  const stamp = Date.now();
  const founderEmail = `hana-${stamp}@acme.test`;

  // The consultant: a firm, an engagement with one founder, an invitation.
  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Firm name', { exact: true }).fill('Probe Consulting');
  await page.getByLabel('Your name', { exact: true }).fill('Pat Prober');
  await page.getByLabel('E-mail', { exact: true }).fill(`pat-${stamp}@example.com`);
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/engagements$/);
  await hydrated(page);
  await page.getByRole('link', { name: 'New engagement' }).first().click();
  await hydrated(page);
  await page.getByLabel('Client name', { exact: true }).fill('Plaintext Ltd');
  await page.getByLabel('System name', { exact: true }).fill('Status API');
  await page.getByLabel('Founders', { exact: true }).fill(`Hana Founder <${founderEmail}>`);
  await page.getByRole('button', { name: 'Create engagement' }).click();
  await expect(page).toHaveURL(/\/engagements\/\d+$/);
  const engagementPath = new URL(page.url()).pathname;
  await hydrated(page);
  await page.getByRole('button', { name: 'Invite Hana Founder' }).click();
  await expect(page.getByRole('row').filter({ hasText: founderEmail })).toContainText('sent');

  // The founder answers "yes" to "Is all traffic on HTTPS…?".
  const link = await invitationLink(founderEmail);
  const founderContext = await browser.newContext();
  const founder = await founderContext.newPage();
  const founderErrors = watchErrors(founder);
  await founder.goto(new URL(link).pathname);
  await hydrated(founder);
  await founder.getByRole('button', { name: 'Start the questionnaire' }).click();
  await expect(founder).toHaveURL(/\/questionnaire$/);
  await founder.goto('/questionnaire?area=deployment-infrastructure');
  await hydrated(founder);
  const question = founder.locator(`[id="q-${ENCRYPTION}"]`);
  await question.getByLabel('Yes', { exact: true }).check();
  await expect(question.getByText('Saved', { exact: true })).toBeVisible();
  expect(founderErrors).toEqual([]);
  await founderContext.close();

  // The probes page starts empty and says what to do.
  await page.goto(`${engagementPath}/probes`);
  await expect(page.getByRole('heading', { level: 1, name: 'Plaintext Ltd' })).toBeVisible();
  await hydrated(page);
  await expect(page.getByTestId('runs-empty')).toBeVisible();
  await expect(page.getByTestId('claims-empty')).toHaveText(/Run a probe to compare the answers with evidence\./);
  const run = page.getByRole('button', { name: 'Run HTTP probe' });
  await expect(run).toBeDisabled();
  await expect(page.getByTestId('run-http')).toContainText("Set the API's base URL under Targets first.");

  // A refused field says why, under the field: the browser checks the numbers itself, the
  // server checks the addresses.
  const targets = page.locator('#targets');
  await targets.getByLabel('Rate (requests per second)').fill('fast');
  await targets.getByRole('button', { name: 'Save targets' }).click();
  await expect(targets.locator('#http_rate-error')).toContainText('whole number');
  await targets.getByLabel('Rate (requests per second)').fill('10');
  await expect(targets.locator('#http_rate-error')).toHaveCount(0);
  await targets.getByLabel('Base URL').fill('ftp://example.com');
  await targets.getByRole('button', { name: 'Save targets' }).click();
  await expect(targets.locator('#http_base_url-error')).toBeVisible();
  await expect(targets.getByLabel('Base URL')).toHaveAttribute('aria-invalid', 'true');

  // Plumbline probes itself over plain http: one endpoint, 10 requests/s for 5 s.
  const self = new URL(baseURL ?? 'http://127.0.0.1:3000').origin;
  await targets.getByLabel('Base URL').fill(self);
  await targets.getByLabel('Endpoints').fill('/healthz');
  await targets.getByLabel('Rate (requests per second)').fill('10');
  await targets.getByLabel('Duration (seconds per endpoint)').fill('5');
  await targets.getByRole('button', { name: 'Save targets' }).click();
  await expect(page.getByTestId('notice')).toContainText('Targets saved.');
  await expect(targets.locator('#http_base_url-error')).toHaveCount(0);
  await expect(targets.getByLabel('Base URL')).toHaveValue(self);

  // The run: queued, a live progress bar, then done.
  await expect(run).toBeEnabled();
  await run.click();
  await expect(page.getByTestId('probe-run')).toHaveCount(1);
  const runId = await page.getByTestId('probe-run').getAttribute('data-run-id');
  const card = page.locator(`[data-testid="probe-run"][data-run-id="${runId}"]`);
  await expect(card).toContainText(`HTTP API run #${runId}`);
  await expect(card.getByTestId('run-progress')).toBeVisible();
  await expect(card.getByRole('button', { name: /^Cancel/ })).toBeVisible();
  await expect(card.getByTestId('run-status')).toHaveText('Done', { timeout: 60_000 });
  await expect(card.getByTestId('run-progress')).toHaveCount(0);
  await expect(card.getByTestId('run-counts')).toContainText('fail');

  // Its checks show below, worst first: http.tls fails on plain http.
  const tls = page.locator('[data-testid="check"][data-check-id="http.tls"]');
  await expect(tls).toHaveAttribute('data-status', 'fail');
  await expect(page.getByTestId('checks-fail')).toContainText('http.tls');
  await expect(tls).toHaveAttribute('id', 'check-http.tls');

  // Claimed versus observed: the founders' "yes" is contradicted, and comes first.
  const claim = page.locator(`[data-testid="claim"][data-question-id="${ENCRYPTION}"]`);
  await expect(claim).toBeVisible();
  await expect(claim.getByTestId('verdict')).toHaveText(/Contradicted/);
  await expect(claim).toContainText('Yes');
  await expect(claim.getByRole('link', { name: /TLS/i }).first()).toBeVisible();
  await expect(page.getByTestId('claim').first()).toHaveAttribute('data-verdict', 'contradicts');

  // A longer run can be cancelled; the checks shown stay those of the finished run.
  await targets.getByLabel('Duration (seconds per endpoint)').fill('60');
  await targets.getByRole('button', { name: 'Save targets' }).click();
  await expect(page.getByTestId('run-http')).toContainText('for 60 s each');
  await run.click();
  await expect(page.getByTestId('probe-run')).toHaveCount(2);
  const long = page.getByTestId('probe-run').first();
  await expect(long.getByTestId('run-progress')).toBeVisible();
  await long.getByRole('button', { name: /^Cancel/ }).click();
  await expect(long.getByTestId('run-status')).toHaveText('Cancelled', { timeout: 30_000 });
  await expect(long.getByTestId('run-progress')).toHaveCount(0);
  await expect(tls).toHaveAttribute('data-status', 'fail');

  // A full reload shows the same runs and checks (rendered on the server).
  await page.reload();
  await hydrated(page);
  await expect(card.getByTestId('run-status')).toHaveText('Done');
  await expect(page.getByTestId('probe-run').first().getByTestId('run-status')).toHaveText('Cancelled');
  await expect(tls).toHaveAttribute('data-status', 'fail');

  // The engagement page points at the contradiction.
  await page.goto(engagementPath);
  await hydrated(page);
  const callout = page.getByTestId('contradiction-callout');
  await expect(callout).toContainText(/answers? (is|are) contradicted by probe evidence/);
  await callout.getByRole('link', { name: 'Claimed versus observed' }).click();
  await expect(page).toHaveURL(/\/probes#claims$/);
  await expect(page.locator('#claims')).toBeVisible();

  // The refused save above answers 422, which Chromium reports on the console; nothing else may.
  expect(errors.filter((e) => !e.includes('status of 422'))).toEqual([]);
});
