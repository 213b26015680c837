import { config } from '#lib/config.ts';
import { accessKeyLoader } from '#lib/koogallery/accessKeys.ts';
import { log } from '#lib/log.ts';
import { readSsm } from '#lib/secrets.ts';
import { marketplaceClient } from '#lib/simulator/client.ts';
import { probe, type ProbeResult } from '#lib/simulator/probe.ts';

/**
 * Twice a day (serverless.yml), the marketplace's availability probe against our own public address (PROBE_URL),
 * signed with the current access key. A failure is an error of this function, which the ProbeFailureAlarm
 * (resources/probe.yml) turns into a message on the alarm topic: the seller hears of it before the marketplace's
 * fifth day of failures freezes the product.
 */
export async function handler(): Promise<ProbeResult | { skipped: string }> {
  const cfg = config();
  if (!cfg.PROBE_URL) return { skipped: 'PROBE_URL is not set' };
  const [current] = await accessKeyLoader(cfg, readSsm)();
  const result = await probe(marketplaceClient(cfg.PROBE_URL, current!.secret));
  const summary = { url: result.url, checks: result.checks };
  if (!result.ok) {
    log.error('availability probe failed', summary);
    throw new Error(
      `availability probe failed: ${result.checks
        .filter((c) => !c.ok)
        .map((c) => `${c.title}: ${c.detail ?? ''}`)
        .join('; ')}`,
    );
  }
  log.info('availability probe passed', summary);
  return result;
}
