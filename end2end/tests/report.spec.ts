import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import vnuJar from 'vnu-jar';
import { watchErrors, hydrated, invitationLink } from './support';

// A consultant writes the report's summary and sees it in the live preview, issues v1 and waits
// for its files, downloads the PDF, checks the HTML with the Nu validator, verifies the digests
// and shares the version with the founder, who reads it on their own page.

test('a report is drafted with a live preview, issued, verified and shared with the founder', async ({ page, browser }) => {
  const errors = watchErrors(page);
  const stamp = Date.now();
  const founderEmail = `rhea-${stamp}@acme.test`;

  // A firm, an engagement with one founder, an invitation.
  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Firm name', { exact: true }).fill('Report Consulting');
  await page.getByLabel('Your name', { exact: true }).fill('Remy Reporter');
  await page.getByLabel('E-mail', { exact: true }).fill(`remy-${stamp}@example.com`);
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/engagements$/);
  await hydrated(page);
  await page.getByRole('link', { name: 'New engagement' }).first().click();
  await hydrated(page);
  await page.getByLabel('Client name', { exact: true }).fill('Acme Reports');
  await page.getByLabel('System name', { exact: true }).fill('Ledger API');
  await page.getByLabel('Founders', { exact: true }).fill(`Rhea Founder <${founderEmail}>`);
  await page.getByRole('button', { name: 'Create engagement' }).click();
  await expect(page).toHaveURL(/\/engagements\/\d+$/);
  const engagementPath = new URL(page.url()).pathname;
  await hydrated(page);
  await page.getByRole('button', { name: 'Invite Rhea Founder' }).click();
  await expect(page.getByRole('row').filter({ hasText: founderEmail })).toContainText('sent');

  // The firm's report look: an accent colour typed as hex, and an SVG logo.
  await page.goto('/firm');
  await hydrated(page);
  const branding = page.locator('#branding');
  await expect(branding.getByRole('heading', { name: 'Report branding' })).toBeVisible();
  await branding.getByLabel('Accent colour as #rrggbb').fill('#8a1c7c');
  await expect(branding.getByLabel('Accent colour', { exact: true })).toHaveValue('#8a1c7c');
  await branding.getByLabel('Logo', { exact: true }).setInputFiles({
    name: 'logo.svg',
    mimeType: 'image/svg+xml',
    buffer: Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40" fill="#8a1c7c"/></svg>',
    ),
  });
  await branding.getByRole('button', { name: 'Save branding' }).click();
  await expect(page).toHaveURL(/\/firm\?branding=saved#branding$/);
  await expect(branding.getByRole('status')).toContainText('Report branding saved');
  await expect(branding).toContainText('Logo on file: SVG');
  await expect(branding.getByLabel('Accent colour', { exact: true })).toHaveValue('#8a1c7c');

  // A finding written by hand, so the report has something to say.
  await page.goto(`${engagementPath}/findings`);
  await hydrated(page);
  const newFinding = page.getByTestId('new-finding');
  await newFinding.getByLabel('Area', { exact: true }).selectOption({ label: 'Database' });
  await newFinding.getByLabel('Severity', { exact: true }).selectOption({ label: 'High' });
  await newFinding.getByLabel('Title', { exact: true }).fill('No index on orders.customer_id');
  await newFinding.getByLabel('Description (Markdown)').fill('Every order lookup scans the table.');
  await newFinding.getByRole('button', { name: 'Add finding' }).click();
  await expect(page.getByTestId('finding').filter({ hasText: 'No index on orders.customer_id' })).toBeVisible();

  // The report page, reached from the engagement's links.
  await page.getByRole('navigation', { name: 'Engagement' }).getByRole('link', { name: 'Report' }).click();
  await expect(page).toHaveURL(new RegExp(`${engagementPath}/report$`));
  await expect(page.getByRole('heading', { name: 'Report', exact: true })).toBeVisible();
  await expect(page.getByTestId('versions-empty')).toHaveText(
    'No version issued yet. Write the summary, check the preview, then issue v1.',
  );
  await hydrated(page);

  // The summary, saved, shows in the preview.
  await page.getByLabel('Executive summary (Markdown)').fill('The ledger is sound; **index the orders table** first.');
  await page.getByLabel('Engineers on the roadmap').fill('3');
  await page.getByRole('button', { name: 'Save draft' }).click();
  await expect(page.getByTestId('notice')).toContainText('Draft saved');
  const preview = page.frameLocator('iframe[title="Report preview"]');
  await expect(preview.locator('strong', { hasText: 'index the orders table' })).toBeVisible({ timeout: 20_000 });
  await expect(preview.getByText('No index on orders.customer_id').first()).toBeVisible();

  // A save from an older copy of the draft is refused, and the page offers to reload it.
  const other = await page.context().newPage();
  await other.goto(`${engagementPath}/report`);
  await hydrated(other);
  await other.getByLabel('Executive summary (Markdown)').fill('Written in another tab.');
  await other.getByRole('button', { name: 'Save draft' }).click();
  await expect(other.getByTestId('notice')).toContainText('Draft saved (edit 2)');
  await other.close();
  await page.getByRole('button', { name: 'Save draft' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Someone changed this report' })).toBeVisible();
  await page.getByRole('button', { name: 'Reload the draft' }).click();
  await expect(page.getByLabel('Executive summary (Markdown)')).toHaveValue('Written in another tab.');
  await page.getByLabel('Executive summary (Markdown)').fill('The ledger is sound; **index the orders table** first.');
  await page.getByRole('button', { name: 'Save draft' }).click();
  await expect(page.getByTestId('notice')).toContainText('Draft saved (edit 3)');
  await expect(preview.locator('strong', { hasText: 'index the orders table' })).toBeVisible({ timeout: 20_000 });
  // The firm's accent and logo are in the report.
  const draftHtml = await (await page.request.get(`${engagementPath}/report/draft.html`)).text();
  expect(draftHtml).toContain('#8a1c7c');
  expect(draftHtml).toContain('data:image/svg+xml');

  // At phone width nothing runs off the side.
  await page.setViewportSize({ width: 375, height: 800 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
  await page.setViewportSize({ width: 1280, height: 800 });

  // Issue v1, confirmed, and wait for its files.
  await page.getByText('Issue v1…').click();
  await page.getByRole('button', { name: 'Yes, issue v1' }).click();
  const v1 = page.locator('#version-1');
  await expect(v1).toBeVisible();
  await expect(v1).toHaveAttribute('data-state', 'issued', { timeout: 90_000 });
  await expect(v1.getByTestId('version-status')).toHaveText('Issued');
  await expect(v1).toContainText('Remy Reporter');
  await expect(v1.locator('code.sha')).toHaveCount(3);

  // The PDF downloads.
  const downloading = page.waitForEvent('download');
  await v1.getByRole('link', { name: 'Download v1 PDF' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/\.pdf$/);
  const pdf = readFileSync(await download.path());
  expect(pdf.subarray(0, 4).toString('latin1')).toBe('%PDF');

  // The HTML is a standalone document without script, and valid.
  const html = await page.request.get(`${engagementPath}/report/v1.html`);
  expect(html.status()).toBe(200);
  const text = await html.text();
  expect(text).toContain('index the orders table');
  expect(text.toLowerCase()).not.toContain('<script');
  const file = join(mkdtempSync(join(tmpdir(), 'plumbline-report-')), 'v1.html');
  writeFileSync(file, text);
  try {
    execFileSync('java', ['-jar', String(vnuJar), '--errors-only', file], { stdio: 'pipe' });
  } catch (e) {
    const failure = e as { status?: number; stderr?: Buffer; stdout?: Buffer };
    throw new Error(
      `the Nu validator found errors (exit ${failure.status}):\n${failure.stderr?.toString() ?? ''}${failure.stdout?.toString() ?? ''}`,
    );
  }
  const markdown = await page.request.get(`${engagementPath}/report/v1.md?download=1`);
  expect(markdown.status()).toBe(200);
  expect(markdown.headers()['content-disposition'] ?? '').toContain('attachment');
  expect(await markdown.text()).toContain('**index the orders table**');

  // Verify: every file matches its digest.
  await v1.getByRole('button', { name: 'Verify v1' }).click();
  await expect(v1.getByTestId('verify-result')).toHaveText('Intact: every file matches its SHA-256.');

  // With REPORT_SCREENSHOTS=<folder>, the page is kept as a person sees it, wide and narrow.
  const shots = process.env.REPORT_SCREENSHOTS;
  if (shots) {
    await page.screenshot({ path: join(shots, 'report-page.png'), fullPage: true });
    await page.setViewportSize({ width: 375, height: 800 });
    await page.screenshot({ path: join(shots, 'report-page-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
  }

  // Share with the founder, by e-mail too.
  await v1.getByLabel('E-mail the founders (PDF attached when under 5 MB)').check();
  await v1.getByRole('button', { name: 'Share with founders v1' }).click();
  await expect(v1.getByTestId('shared-since')).toContainText('Shared since');
  await expect(v1.getByRole('button', { name: 'Stop sharing v1' })).toBeVisible();
  const folder = process.env.PLUMBLINE_MAIL_DIR;
  if (folder) {
    await expect
      .poll(
        () =>
          readdirSync(folder)
            .filter((f) => f.endsWith('.eml'))
            .map((f) => readFileSync(join(folder, f), 'utf8'))
            .some((m) => m.includes(founderEmail) && m.includes('Audit report v1')),
        { timeout: 30_000, message: 'the report e-mail to the founder' },
      )
      .toBe(true);
  }

  // The founder, in a browser of their own, reads it.
  const link = await invitationLink(founderEmail);
  const founderContext = await browser.newContext();
  const founder = await founderContext.newPage();
  const founderErrors = watchErrors(founder);
  await founder.goto(new URL(link).pathname);
  await hydrated(founder);
  await founder.getByRole('button', { name: 'Start the questionnaire' }).click();
  await expect(founder).toHaveURL(/\/questionnaire$/);
  await hydrated(founder);
  await founder.getByRole('link', { name: 'Read the report' }).click();
  await expect(founder).toHaveURL(/\/questionnaire\/report$/);
  await expect(founder.getByRole('heading', { level: 1, name: 'Report: Acme Reports' })).toBeVisible();
  await expect(founder.getByTestId('shared-version')).toHaveCount(1);
  await expect(founder.getByTestId('shared-version')).toContainText('v1');
  await expect(founder.getByRole('link', { name: 'Download v1 PDF' })).toHaveAttribute(
    'href',
    '/questionnaire/report/v1.pdf?download=1',
  );
  const report = founder.frameLocator('iframe[title="Report"]');
  await expect(report.locator('strong', { hasText: 'index the orders table' })).toBeVisible({ timeout: 20_000 });
  if (shots) {
    await founder.screenshot({ path: join(shots, 'founder-report.png'), fullPage: true });
  }
  const founderMarkdown = await founder.request.get('/questionnaire/report/v1.md');
  expect(founderMarkdown.status()).toBe(200);

  // Stopping sharing takes it away from the founder.
  await v1.getByRole('button', { name: 'Stop sharing v1' }).click();
  await expect(v1.getByRole('button', { name: 'Share with founders v1' })).toBeVisible();
  await founder.reload();
  await expect(founder.getByText('Your consultant has not shared a report yet.')).toBeVisible();
  expect((await founder.request.get('/questionnaire/report/v1.md')).status()).toBe(404);

  expect(founderErrors).toEqual([]);
  await founderContext.close();
  // The refused stale save answers 409 on purpose; nothing else may fail.
  expect(errors.filter((e) => !e.includes('status of 409'))).toEqual([]);
});
