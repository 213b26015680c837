/**
 * A real headless Chromium for the single sign-on's browser test: Debian's /usr/bin/chromium (or CHROMIUM_PATH)
 * driven by playwright-core, which never downloads a browser. Each launch gets a fresh profile and no background
 * traffic. Without a Chromium the test is skipped with one loud line, except under CI=true, where it fails.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-headless-shell'];

/** The Chromium to drive, or undefined when none is installed. */
export function findChromium(): string | undefined {
  return CANDIDATES.find((path): path is string => !!path && existsSync(path));
}

/** True when the test must run: a Chromium exists, or CI demands it (then the launch fails loudly). */
export function browserTestsRun(): boolean {
  if (findChromium()) return true;
  if (process.env.CI === 'true') return true;
  console.warn('!!! SSO browser test SKIPPED: no Chromium at /usr/bin/chromium (apt-get install chromium, or set CHROMIUM_PATH) !!!');
  return false;
}

export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error('no Chromium found (apt-get install chromium, or set CHROMIUM_PATH); CI=true requires it');
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
