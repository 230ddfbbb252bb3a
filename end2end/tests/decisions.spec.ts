import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { watchErrors, hydrated } from './support';

// A consultant writes two architecture decision records, the second superseding the first; the
// editor previews Markdown as it is typed (rendered and sanitized by the server); the records
// download as an ADR zip; the engagement page's activity card lists the changes.

test('decision records supersede each other, preview live, download as an ADR zip and show in the activity', async ({ page }) => {
  const errors = watchErrors(page);
  const stamp = Date.now();

  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Firm name', { exact: true }).fill('Decisions Consulting');
  await page.getByLabel('Your name', { exact: true }).fill('Dana Decider');
  await page.getByLabel('E-mail', { exact: true }).fill(`dana-${stamp}@example.com`);
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/engagements$/);
  await hydrated(page);
  await page.getByRole('link', { name: 'New engagement' }).first().click();
  await hydrated(page);
  await page.getByLabel('Client name', { exact: true }).fill('Northwind Ledger');
  await page.getByLabel('System name', { exact: true }).fill('Billing API');
  await page.getByRole('button', { name: 'Create engagement' }).click();
  await expect(page).toHaveURL(/\/engagements\/\d+$/);
  const engagementUrl = new URL(page.url()).pathname;
  await hydrated(page);

  // Nothing has happened yet; the links row leads to the decisions.
  const activity = page.locator('#activity');
  await expect(activity).toContainText('Nothing has changed yet');
  await page.getByRole('navigation', { name: 'Engagement pages' }).getByRole('link', { name: 'Decisions' }).click();
  await expect(page).toHaveURL(new RegExp(`${engagementUrl}/decisions$`));
  await expect(page.getByRole('heading', { level: 1, name: 'Decision records' })).toBeVisible();
  await expect(page.getByText('No decision records yet.')).toBeVisible();
  await hydrated(page);

  // Record 1, with the preview rendering Markdown as it is typed.
  const editor = page.locator('section.decision-editor');
  await expect(editor.getByRole('heading', { name: 'New decision record' })).toBeVisible();
  await editor.getByLabel('Title', { exact: true }).fill('Use PostgreSQL for everything');
  await editor.getByLabel('Status', { exact: true }).selectOption({ label: 'Accepted' });
  await editor.getByRole('textbox', { name: 'Context (Markdown)' }).fill('One database keeps the **bold** promise of one backup.');
  const contextPreview = editor.getByRole('region', { name: 'Preview: Context' });
  await expect(contextPreview.locator('strong')).toHaveText('bold');
  await editor.getByRole('textbox', { name: 'Decision (Markdown)' }).fill('- Orders\n- Reports');
  await expect(editor.getByRole('region', { name: 'Preview: Decision' }).locator('li')).toHaveCount(2);
  await editor.getByRole('button', { name: 'Save record' }).click();

  const first = page.locator('#adr-1');
  await expect(first).toContainText('ADR-0001');
  await expect(first).toContainText('Use PostgreSQL for everything');
  await expect(first.locator('.decision-status')).toHaveText('Accepted');
  await expect(page).toHaveURL(/decision=\d+/);
  // The saved record is open, its sections rendered from the sanitized HTML.
  await expect(first.locator('.decision-body strong')).toHaveText('bold');
  await expect(editor.getByRole('heading', { name: 'New decision record' })).toBeVisible();

  // Record 2 supersedes record 1.
  await editor.getByLabel('Title', { exact: true }).fill('Split reporting into a read replica');
  await editor.getByLabel('Status', { exact: true }).selectOption({ label: 'Accepted' });
  await editor.getByLabel('Supersedes', { exact: true }).selectOption({ label: 'ADR-0001 · Use PostgreSQL for everything' });
  await expect(editor.getByText('Saving marks ADR-0001 as superseded by this record')).toBeVisible();
  await editor.getByRole('textbox', { name: 'Context (Markdown)' }).fill('Reports slow down *checkout*.');
  await expect(editor.getByRole('region', { name: 'Preview: Context' }).locator('em')).toHaveText('checkout');
  await editor.getByRole('button', { name: 'Save record' }).click();

  const second = page.locator('#adr-2');
  await expect(second).toContainText('Split reporting into a read replica');
  await expect(second.locator('.decision-status')).toHaveText('Accepted');
  await expect(second.locator('.decision-meta')).toContainText(/supersedes ADR-0001/i);
  await expect(first.locator('.decision-status')).toHaveText('Superseded');
  await expect(first.locator('.decision-meta')).toContainText(/superseded by ADR-0002/i);

  // The "superseded by" link opens the newer record.
  await first.locator('.decision-meta').getByRole('link', { name: 'ADR-0002' }).click();
  await expect(page).toHaveURL(/decision=\d+/);
  await expect(second.locator('.decision-body')).toBeVisible();
  await expect(second.locator('.decision-body em')).toHaveText('checkout');

  // A full reload renders the same on the server.
  await page.reload();
  await hydrated(page);
  await expect(page.locator('#adr-1 .decision-status')).toHaveText('Superseded');
  await expect(page.locator('#adr-2 .decision-meta')).toContainText(/supersedes ADR-0001/i);

  // The ADR zip.
  const downloading = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Download all as ADR zip' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/\.zip$/);
  const path = await download.path();
  const zip = readFileSync(path);
  expect(zip.subarray(0, 2).toString('latin1')).toBe('PK');
  expect(zip.includes('docs/adr/0001-use-postgresql-for-everything.md')).toBe(true);
  expect(zip.includes('docs/adr/0002-split-reporting-into-a-read-replica.md')).toBe(true);

  // The engagement page's activity card lists the decision changes, with before and after.
  await page.goto(engagementUrl);
  await hydrated(page);
  await expect(activity).toContainText('ADR-0001');
  await expect(activity).toContainText('ADR-0002');
  await expect(activity).toContainText('Dana Decider');
  await expect(activity).not.toContainText('Nothing has changed yet');
  const newest = activity.locator('.activity-entry').first();
  await newest.getByText('Before and after').click();
  await expect(newest.locator('pre').first()).toBeVisible();

  expect(errors).toEqual([]);
});
