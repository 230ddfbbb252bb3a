import { expect, test, type Page } from '@playwright/test';
import { watchErrors, hydrated } from './support';

// The UI contract these tests rely on: accessible names (labels, roles, headings) and
// `<body data-hydrated="true">`, which the app sets once the WebAssembly has hydrated the page.

const loginUrl = /\/login(\?.*)?$/;

test('sign up, create an engagement, find it, log out', async ({ page }) => {
  const errors = watchErrors(page);

  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Firm name', { exact: true }).fill('E2E Consulting');
  await page.getByLabel('Your name', { exact: true }).fill('Erin Endtoend');
  await page.getByLabel('E-mail', { exact: true }).fill(`e2e-${Date.now()}@example.com`);
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();

  await expect(page).toHaveURL(/\/engagements$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Engagements' })).toBeVisible();
  await hydrated(page);

  // The page may offer it twice (toolbar and empty-state hint); both lead to the same form.
  await page.getByRole('link', { name: 'New engagement' }).first().click();
  await expect(page.getByLabel('Client name', { exact: true })).toBeVisible();
  await hydrated(page);
  await page.getByLabel('Client name', { exact: true }).fill('Acme Rockets');
  await page.getByLabel('System name', { exact: true }).fill('Launch API');
  await page.getByLabel('Founders', { exact: true }).fill('Ada Founder <ada@acme.test>');
  await page.getByLabel('Team size', { exact: true }).fill('6');
  await page.getByRole('button', { name: 'Create engagement' }).click();

  await expect(page).toHaveURL(/\/engagements\/\d+$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Acme Rockets' })).toBeVisible();
  await hydrated(page);

  await page.getByRole('navigation').getByRole('link', { name: 'Engagements', exact: true }).click();
  await expect(page).toHaveURL(/\/engagements(\?.*)?$/);
  const acmeRow = page.getByRole('row').filter({ hasText: 'Acme Rockets' });
  await expect(acmeRow).toBeVisible();

  // Server-rendered on a full load too, not only after a client-side navigation.
  await page.reload();
  await expect(acmeRow).toBeVisible();
  await hydrated(page);

  const search = page.getByLabel('Search', { exact: true });
  await search.fill('zzz-no-match');
  await search.press('Enter');
  await expect(page.getByText('No engagements match')).toBeVisible();
  await hydrated(page);
  await page.getByLabel('Search', { exact: true }).fill('');
  await page.getByLabel('Search', { exact: true }).press('Enter');
  await expect(acmeRow).toBeVisible();
  await hydrated(page);

  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(loginUrl);
  await expect(page.getByRole('heading', { level: 1, name: 'Log in' })).toBeVisible();

  // The session is gone: a protected page sends us back to the login page.
  await page.goto('/engagements');
  await expect(page).toHaveURL(loginUrl);
  await expect(page.getByRole('heading', { level: 1, name: 'Log in' })).toBeVisible();

  expect(errors).toEqual([]);
});

test('a wrong password for an unknown e-mail address is refused', async ({ page }) => {
  const errors = watchErrors(page);

  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('E-mail', { exact: true }).fill(`nobody-${Date.now()}@example.com`);
  const password = page.getByLabel('Password', { exact: true });
  await password.fill('not the password');
  // Enter submits the form whatever its button is called.
  await password.press('Enter');

  await expect(page.getByText('Wrong e-mail address or password.')).toBeVisible();
  // A refused login may log its 4xx response as a console message; uncaught errors are still bugs.
  expect(errors.filter((error) => error.startsWith('pageerror'))).toEqual([]);
});

test('the login page fits a phone screen without horizontal scrolling', async ({ page }) => {
  const errors = watchErrors(page);

  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('/login');
  await hydrated(page);
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(scrollWidth).toBeLessThanOrEqual(390);

  expect(errors).toEqual([]);
});
