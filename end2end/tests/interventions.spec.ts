import { expect, test, type Locator, type Page } from '@playwright/test';
import { watchErrors, hydrated } from './support';

// The consultant writes two interventions, one depending on the other; the dependency comes
// first although the dependent has the higher priority; the roadmap for one engineer starts the
// dependent when its dependency ends. Then a finding written by hand on the findings page.

async function addIntervention(
  page: Page,
  form: Locator,
  fields: { title: string; impact: string; effort: string; confidence: string; dependsOn?: string[] },
): Promise<void> {
  await form.getByLabel('Title', { exact: true }).fill(fields.title);
  await form.getByLabel('Impact', { exact: true }).selectOption(fields.impact);
  await form.getByLabel('Effort (engineer-weeks)', { exact: true }).fill(fields.effort);
  await form.getByLabel('Confidence', { exact: true }).selectOption({ label: fields.confidence });
  for (const dependency of fields.dependsOn ?? []) {
    await form.getByLabel(dependency, { exact: true }).check();
  }
  await form.getByRole('button', { name: 'Add intervention' }).click();
  // Filtered by heading: other cards name it too, in their (folded) dependency checkboxes.
  const card = page.getByTestId('intervention').filter({ has: page.getByRole('heading', { level: 3, name: fields.title }) });
  await expect(card).toBeVisible();
  await hydrated(page);
}

test('interventions are ordered dependencies first and laid into a roadmap; a finding is written by hand', async ({ page }) => {
  const errors = watchErrors(page);
  const stamp = Date.now();

  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Firm name', { exact: true }).fill('Roadmap Consulting');
  await page.getByLabel('Your name', { exact: true }).fill('Rory Roadmap');
  await page.getByLabel('E-mail', { exact: true }).fill(`rory-${stamp}@example.com`);
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/engagements$/);
  await hydrated(page);
  await page.getByRole('link', { name: 'New engagement' }).first().click();
  await hydrated(page);
  await page.getByLabel('Client name', { exact: true }).fill('Nplus Retail');
  await page.getByLabel('System name', { exact: true }).fill('Orders API');
  await page.getByRole('button', { name: 'Create engagement' }).click();
  await expect(page).toHaveURL(/\/engagements\/\d+$/);
  const engagementUrl = new URL(page.url()).pathname;

  // Interventions: empty at first.
  await page.goto(`${engagementUrl}/interventions`);
  await expect(page.getByRole('heading', { level: 1, name: 'Nplus Retail' })).toBeVisible();
  await hydrated(page);
  await expect(page.getByTestId('interventions-empty')).toBeVisible();

  // The browser checks the form with the server's parser before sending it.
  const form = page.getByTestId('new-intervention');
  await form.getByRole('button', { name: 'Add intervention' }).click();
  await expect(form.getByText('Enter the title.')).toBeVisible();
  await expect(form.getByText(/Give the effort in engineer-weeks/)).toBeVisible();

  // A: cheap but unsure (3 × 0.5 ÷ 0.5 = 3.00); B: needs A, worth more (5 × 1.0 ÷ 1 = 5.00).
  await addIntervention(page, form, { title: 'Slow query log', impact: '3', effort: '0.5', confidence: 'Low (50 %)' });
  await addIntervention(page, form, {
    title: 'Fix N+1 queries',
    impact: '5',
    effort: '1',
    confidence: 'High (100 %)',
    dependsOn: ['I-1 Slow query log'],
  });

  // The form is empty again after each addition (nothing left over from the last one).
  await expect(form.getByLabel('Title', { exact: true })).toHaveValue('');
  await expect(form.getByLabel('I-1 Slow query log', { exact: true })).not.toBeChecked();

  const cards = page.getByTestId('intervention');
  await expect(cards).toHaveCount(2);
  const a = cards.nth(0);
  const b = cards.nth(1);
  await expect(a.getByRole('heading', { level: 3 })).toHaveText('I-1 Slow query log');
  await expect(a).toHaveAttribute('data-reference', 'I-1');
  await expect(b.getByRole('heading', { level: 3 })).toHaveText('I-2 Fix N+1 queries');
  await expect(b).toHaveAttribute('data-position', '2');
  await expect(a.getByTestId('priority')).toHaveText('3.00');
  await expect(b.getByTestId('priority')).toHaveText('5.00');
  await expect(b.getByTestId('depends-on')).toHaveText('Depends on I-1');
  await expect(page.getByTestId('order-state')).toContainText('computed order');

  // Pinning the order as it is, and going back.
  await page.getByTestId('pin-order').click();
  await expect(page.getByTestId('order-state')).toContainText('You pinned this order by hand');
  await hydrated(page);
  await page.getByTestId('unpin-order').click();
  await expect(page.getByTestId('order-state')).toContainText('This is the computed order');
  await hydrated(page);

  // The roadmap for one engineer from a given Monday: B starts when A ends.
  await page.getByLabel('Engineers available', { exact: true }).fill('1');
  await page.getByLabel('Start date', { exact: true }).fill('2027-01-04');
  await page.getByRole('button', { name: 'Show the roadmap' }).click();
  await expect(page).toHaveURL(/capacity=1/);
  await expect(page).toHaveURL(/start=2027-01-04/);
  const barA = page.locator('[data-testid="roadmap-bar"][data-reference="I-1"]');
  const barB = page.locator('[data-testid="roadmap-bar"][data-reference="I-2"]');
  await expect(barA).toHaveAttribute('data-start-week', '0');
  await expect(barA).toHaveAttribute('data-end-week', '0.5');
  await expect(barB).toHaveAttribute('data-start-week', '0.5');
  await expect(barB).toHaveAttribute('data-end-week', '1.5');
  await expect(barA).toHaveAttribute('data-engineer', '1');
  await expect(barB).toHaveAttribute('data-engineer', '1');
  await expect(page.getByTestId('roadmap-summary')).toContainText('1 engineer from 2027-01-04');
  const table = page.getByTestId('roadmap-table');
  // Dates name the first and the last day of work: B's first day is the day after A's last.
  const lastDayOfA = (await table.locator('tr[data-reference="I-1"] td').nth(2).textContent()) ?? '';
  const dayAfter = new Date(Date.parse(`${lastDayOfA.trim()}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  await expect(table.locator('tr[data-reference="I-1"] td').nth(1)).toHaveText('2027-01-04');
  await expect(table.locator('tr[data-reference="I-2"] td').nth(1)).toHaveText(dayAfter);
  await expect(page.getByTestId('impact-effort-chart').getByTestId('chart-point')).toHaveCount(2);

  // The roadmap's address is shareable: a fresh load renders the same on the server.
  await page.reload();
  await expect(barB).toHaveAttribute('data-start-week', '0.5');
  await expect(page.getByLabel('Engineers available', { exact: true })).toHaveValue('1');
  await hydrated(page);

  // A finding written by hand.
  await page.getByRole('navigation', { name: 'Engagement' }).getByRole('link', { name: 'Findings' }).click();
  await expect(page).toHaveURL(/\/findings$/);
  await expect(page.getByTestId('findings-empty')).toBeVisible();
  await hydrated(page);
  const newFinding = page.getByTestId('new-finding');
  await newFinding.getByLabel('Area', { exact: true }).selectOption({ label: 'Database' });
  await newFinding.getByLabel('Severity', { exact: true }).selectOption({ label: 'High' });
  await newFinding.getByLabel('Title', { exact: true }).fill('No index on orders.customer_id');
  await newFinding.getByLabel('Description (Markdown)').fill('Every order lookup **scans** the table.');
  await newFinding.getByLabel('Links (optional)').fill('https://example.com/explain-orders');
  await newFinding.getByRole('button', { name: 'Add finding' }).click();
  const finding = page.getByTestId('finding').filter({ hasText: 'No index on orders.customer_id' });
  await expect(finding).toBeVisible();
  await expect(finding).toHaveAttribute('data-reference', 'F-1');
  await expect(finding).toContainText('Written by hand');
  await expect(finding).toContainText('Open');
  await expect(finding.locator('strong')).toHaveText('scans');
  const link = finding.getByRole('link', { name: /example\.com\/explain-orders/ });
  await expect(link).toHaveAttribute('target', '_blank');
  await expect(link).toHaveAttribute('rel', /noopener/);
  await expect(page.getByTestId('severity-high')).toContainText('No index on orders.customer_id');

  expect(errors).toEqual([]);
});
