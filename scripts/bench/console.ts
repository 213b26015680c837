/**
 * `npm run bench:console`: how fast the seller console is usable against the local stack (`npm start`): the time
 * from navigating to /console (signed in) to the Overview rendered with every card loaded, in headless Chromium.
 * The first load has an empty cache; the next ones have the hashed assets cached, as a returning seller does.
 * Options: --runs N (default 10), --url http://127.0.0.1:3000 (default: the running local stack's).
 */
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { readStackFile } from '../local/stackFile.ts';
import { CHROMIUM_ARGS, findChromium, NO_CHROMIUM } from '../../test/helpers/chromium.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, url: { type: 'string' } } });
const runs = Number(values.runs);
const found = readStackFile();
if (!found.ok) {
  console.error(found.reason);
  process.exit(1);
}
const base = values.url ?? found.stack.urls.http;
const executablePath = findChromium();
if (!executablePath) {
  console.error(NO_CHROMIUM);
  process.exit(1);
}

const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  // Signed in: the key in the tab's sessionStorage, as the sign-in form leaves it.
  await page.goto(`${base}/console`);
  await page.evaluate(`sessionStorage.setItem('koogallery.sellerKey', ${JSON.stringify(found.stack.sellerKey.secret)})`);
  await page.goto('about:blank');
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.clearBrowserCache');
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await page.goto(`${base}/console#/`, { waitUntil: 'commit' });
    await page.locator('.overview[data-ready="true"]').waitFor({ timeout: 10_000 });
    times.push(performance.now() - started);
    await page.goto('about:blank');
  }
  const [first, ...rest] = times;
  const sorted = [...rest].sort((a, b) => a - b);
  const pick = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  console.log(`console at ${base}/console, ${runs} loads, navigation → Overview rendered with every card loaded`);
  console.log(`  first load (empty cache)   ${first!.toFixed(0)} ms`);
  if (rest.length > 0)
    console.log(
      `  cached assets              median ${pick(0.5).toFixed(0)} ms, p90 ${pick(0.9).toFixed(0)} ms, max ${pick(1).toFixed(0)} ms`,
    );
} finally {
  await browser.close();
}
