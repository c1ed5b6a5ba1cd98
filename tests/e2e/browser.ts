import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const SCREENSHOTS = new URL('./screenshots/', import.meta.url).pathname;

/** Debian's Chromium, headless, with the flags of DEVELOPERS.md; playwright gives it a fresh profile. */
export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
    ],
  });
  await mkdir(SCREENSHOTS, { recursive: true });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}

/** A person with their own cookie jar; French unless told otherwise. */
export async function personContext(browser: Browser, locale = 'fr-FR'): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale, viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  return { context, page };
}

export async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Logs in through the development identity provider: a ready-made identity's button, or the free form. */
export async function logIn(
  page: Page,
  baseUrl: string,
  who: { button: string } | { givenNames: string; familyName: string; birthdate: string },
  returnTo = '/',
) {
  await page.goto(`${baseUrl}/auth/login?returnTo=${encodeURIComponent(returnTo)}`);
  await page.waitForURL(/\/dev\/oidc\/authorize/);
  if ('button' in who) {
    await page.click(`button[name="identity"][value="${who.button}"]`);
  } else {
    await page.fill('input[name="givenNames"]', who.givenNames);
    await page.fill('input[name="familyName"]', who.familyName);
    await page.fill('input[name="birthdate"]', who.birthdate);
    await page.click('button[name="identity"][value="custom"]');
  }
  await page.waitForURL((url) => !url.pathname.startsWith('/dev/oidc') && !url.pathname.startsWith('/auth/'));
}

export async function countOf(page: Page): Promise<number> {
  const text = (await page.textContent('[data-count]')) ?? '';
  return Number(text.replace(/\D/g, ''));
}
