import { config } from '#lib/config.ts';
import { log } from '#lib/log.ts';
import { lazy } from '#lib/shared/lazy.ts';
import { pushDeps } from '#lib/usage/deps.ts';
import { pushUsage, type PushSummary } from '#lib/usage/push.ts';

/**
 * Minute 5 of every hour (serverless.yml): pushes the closed usage windows to the marketplace (spec §8.2). What the
 * run counted (refused records) is written as CloudWatch metrics when it ends, even if it fails.
 */
const deps = lazy(() => pushDeps(config(), log));

export async function handler(): Promise<PushSummary> {
  const run = deps();
  try {
    return await pushUsage(run, run.settings);
  } finally {
    run.metrics.flush();
  }
}
