import type { S3Event } from 'aws-lambda';
import { config } from '#lib/config.ts';
import { supervisionDeps } from '#lib/supervision/deps.ts';
import { lazy } from '#lib/shared/lazy.ts';
import { proofReceived, type ReceivedOutcome } from '#lib/supervision/proofCheck.ts';

/**
 * The files bucket's ObjectCreated notification on `proofs/` (resources/s3.yml): checks each uploaded delivery
 * proof and moves service supervision on (lib/supervision/proofCheck.ts). A failure makes S3 retry the event;
 * a repeated event changes nothing.
 */

const deps = lazy(() => supervisionDeps(config()));

export async function handler(event: S3Event): Promise<{ outcomes: ReceivedOutcome[] }> {
  return { outcomes: await proofReceived(event, deps()) };
}
