/**
 * Debian's Chromium for the browser tests (the console's and the single sign-on's), driven by playwright-core, which
 * never downloads a browser: found at CHROMIUM_PATH or Debian's places, launched headless with a fresh profile and no
 * background traffic. Without one the tests are skipped with one loud line, except under CI=true, where they fail.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-headless-shell',
  '/usr/lib/chromium/chromium-headless-shell',
  '/usr/bin/chromium-browser',
];

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The Chromium to drive: CHROMIUM_PATH if set, else the first of Debian's places that exists. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CHROMIUM_PATH) return env.CHROMIUM_PATH;
  return CHROMIUM_CANDIDATES.find((path) => existsSync(path));
}

export const NO_CHROMIUM =
  'BROWSER TESTS SKIPPED: no Chromium found. Install it with `sudo apt-get install -y chromium` (or set CHROMIUM_PATH).';

/** Whether to run the browser tests: yes with a Chromium; without one, skip (one loud line) unless CI=true (fail). */
export function browserAvailable(): boolean {
  const found = findChromium();
  if (found) return true;
  if (process.env.CI === 'true') throw new Error(`${NO_CHROMIUM} CI must run them.`);
  console.warn(`\n*** ${NO_CHROMIUM} ***\n`);
  return false;
}

export const launchChromium = (): Promise<Browser> =>
  // A fresh temporary profile for every launch (playwright's default for launch()).
  chromium.launch({ executablePath: findChromium()!, headless: true, args: CHROMIUM_ARGS });
