import { expect, test, type Page } from '@playwright/test';
import { watchErrors, hydrated, invitationLink } from './support';

// The consultant invites a founder; the founder opens the link from the mail transport in a
// fresh browser, answers questions in two areas, reloads, sees the answers kept and submits;
// the consultant sees the area scores and the red flags.

/** Picks an answer for one question and waits until the page says it is saved. */
async function answer(page: Page, questionId: string, choice: string): Promise<void> {
  const card = page.locator(`[id="q-${questionId}"]`);
  await card.getByLabel(choice, { exact: true }).check();
  await expect(card.getByText('Saved', { exact: true })).toBeVisible();
}

test('a founder answers the questionnaire the consultant sent, and the consultant sees the scores', async ({ page, browser }) => {
  const consultantErrors = watchErrors(page);
  const stamp = Date.now();
  const founderEmail = `fay-${stamp}@acme.test`;

  // The consultant: a firm, an engagement with one founder, an invitation.
  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Firm name', { exact: true }).fill('Questionnaire Consulting');
  await page.getByLabel('Your name', { exact: true }).fill('Quinn Consultant');
  await page.getByLabel('E-mail', { exact: true }).fill(`quinn-${stamp}@example.com`);
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/engagements$/);
  await hydrated(page);
  await page.getByRole('link', { name: 'New engagement' }).first().click();
  await hydrated(page);
  await page.getByLabel('Client name', { exact: true }).fill('Acme Rockets');
  await page.getByLabel('System name', { exact: true }).fill('Launch API');
  await page.getByLabel('Founders', { exact: true }).fill(`Fay Founder <${founderEmail}>`);
  await page.getByRole('button', { name: 'Create engagement' }).click();
  await expect(page).toHaveURL(/\/engagements\/\d+$/);
  const engagementUrl = page.url();
  await hydrated(page);
  await page.getByRole('button', { name: 'Invite Fay Founder' }).click();
  await expect(page.getByRole('row').filter({ hasText: founderEmail })).toContainText('sent');

  // The founder, in a browser of their own.
  const link = await invitationLink(founderEmail);
  const founderContext = await browser.newContext();
  const founder = await founderContext.newPage();
  const founderErrors = watchErrors(founder);
  await founder.goto(new URL(link).pathname);
  await expect(founder.getByRole('heading', { level: 1, name: 'Hello Fay Founder' })).toBeVisible();
  await hydrated(founder);
  await founder.getByRole('button', { name: 'Start the questionnaire' }).click();
  await expect(founder).toHaveURL(/\/questionnaire$/);
  await expect(founder.getByRole('heading', { level: 2, name: /Observability/ })).toBeVisible();
  await hydrated(founder);

  await answer(founder, 'observability.latency-percentiles', 'No');
  await answer(founder, 'observability.slow-query-log', 'Yes');
  await answer(founder, 'observability.error-rate-dashboard', "Don't know");
  await expect(founder.getByText('3 of 60 questions answered')).toBeVisible();

  // A choice can be taken back, and given again.
  const unsure = founder.locator('[id="q-observability.error-rate-dashboard"]');
  await unsure.getByRole('button', { name: 'Clear answer' }).click();
  await expect(founder.getByText('2 of 60 questions answered')).toBeVisible();
  await expect(unsure.getByLabel("Don't know", { exact: true })).not.toBeChecked();
  await unsure.getByLabel("Don't know", { exact: true }).check();
  await expect(founder.getByText('3 of 60 questions answered')).toBeVisible();
  await expect(unsure.getByText('Saved', { exact: true })).toBeVisible();

  await founder.getByRole('link', { name: /Database/ }).first().click();
  await expect(founder).toHaveURL(/area=database/);
  await expect(founder.getByRole('heading', { level: 2, name: /Database/ })).toBeVisible();
  await answer(founder, 'database.n-plus-one', 'Partly');
  await answer(founder, 'database.indexes-match-queries', 'No');
  await expect(founder.getByText('5 of 60 questions answered')).toBeVisible();

  // Another device would see the same: a full reload shows every answer kept.
  await founder.reload();
  await hydrated(founder);
  await expect(founder.getByText('5 of 60 questions answered')).toBeVisible();
  await expect(founder.locator('[id="q-database.indexes-match-queries"]').getByLabel('No', { exact: true })).toBeChecked();
  await founder.goto('/questionnaire?area=observability');
  await hydrated(founder);
  await expect(founder.locator('[id="q-observability.latency-percentiles"]').getByLabel('No', { exact: true })).toBeChecked();
  await expect(founder.locator('[id="q-observability.slow-query-log"]').getByLabel('Yes', { exact: true })).toBeChecked();

  // Submit for review: the answers become read-only.
  await founder.getByText('Submit for review…').click();
  await founder.getByRole('button', { name: 'Submit for review now' }).click();
  await expect(founder.getByText(/Submitted for review on/)).toBeVisible();
  await expect(founder.locator('[id="q-observability.slow-query-log"]').getByLabel('Yes', { exact: true })).toBeDisabled();

  // The consultant sees the scores and the red flags the answers raised.
  await page.goto(`${engagementUrl}/scores`);
  await hydrated(page);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  const observability = page.locator('section, article').filter({ has: page.getByRole('heading', { level: 2, name: /Observability/ }) }).first();
  await expect(observability).toBeVisible();
  await expect(page.getByText(/p50, p95 and p99/).first()).toBeVisible();
  await expect(page.getByText(/Red flag/i).first()).toBeVisible();

  expect(founderErrors).toEqual([]);
  expect(consultantErrors).toEqual([]);
  await founderContext.close();
});
