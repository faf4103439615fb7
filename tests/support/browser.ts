// Debian's Chromium, headless, driven by puppeteer-core (which downloads no browser). CHROMIUM_PATH
// overrides /usr/bin/chromium. A missing browser fails the test with what to install: never a skip.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Screenshots and pages the browser tests save: test-output/<suite>/ (git-ignored). */
export function testOutputDir(suite: string): string {
  const dir = join(import.meta.dirname, '..', '..', 'test-output', suite);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: install it with \`scripts/install-system-deps.sh browser\` (apt-get install chromium), or set CHROMIUM_PATH`);
  }
  const asRoot = process.getuid?.() === 0;
  return puppeteer.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...(asRoot ? ['--no-sandbox'] : []), '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check'],
  });
}
