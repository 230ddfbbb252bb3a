// Helpers every browser test uses: error watching, waiting for hydration, and reading the
// invitation links the file mail transport writes.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Page } from '@playwright/test';

/** Collects console errors and uncaught page errors, to be asserted empty at the end of a test. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  return errors;
}

/**
 * Interacting before hydration would hit server-rendered HTML that has no event handlers yet.
 * A debug build's wasm is about 10 MB: on a busy 2-core machine compiling it can take a while.
 */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true', { timeout: 30_000 });
}

/** The newest invitation link sent to `address`, read from the file mail transport's folder. */
export async function invitationLink(address: string): Promise<string> {
  const folder = process.env.PLUMBLINE_MAIL_DIR;
  if (!folder) throw new Error('PLUMBLINE_MAIL_DIR is not set (cargo xtask test sets it)');
  let link: string | undefined;
  await expect
    .poll(
      () => {
        let files: string[] = [];
        try {
          files = readdirSync(folder).filter((f) => f.endsWith('.eml'));
        } catch {
          return undefined;
        }
        for (const file of files) {
          const text = readFileSync(join(folder, file), 'utf8');
          if (!text.includes(address)) continue;
          const found = text.match(/https?:\/\/\S+\/invite\/fnd_[0-9a-f]{64}/);
          if (found) link = found[0];
        }
        return link;
      },
      { timeout: 30_000, message: `an invitation mail to ${address}` },
    )
    .toBeTruthy();
  return link as string;
}
