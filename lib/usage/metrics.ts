import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { PushMetrics } from './push.ts';

/**
 * The usage push's CloudWatch metrics, written as EMF (one JSON line on stdout per run, which CloudWatch Logs turns
 * into metrics): `UsageRecordsRefused` counts the records the marketplace refused or that were too old to send.
 * The namespace is the stage's (`KooGalleryISV/<stage>`, serverless.yml custom.metricsNamespace) and the dimension
 * is the service (POWERTOOLS_SERVICE_NAME); UsageRecordsRefusedAlarm (resources/alarms.yml) watches exactly that.
 * Only the usage push imports this module: the produce bundle carries no metrics code.
 */

export const METRICS_NAMESPACE_PREFIX = 'KooGalleryISV';
export const USAGE_RECORDS_REFUSED = 'UsageRecordsRefused';

export interface UsagePushMetrics extends PushMetrics {
  /** Writes what was counted since the last flush; nothing when nothing was counted. */
  flush(): void;
}

export function usagePushMetrics(stage: string): UsagePushMetrics {
  const metrics = new Metrics({ namespace: `${METRICS_NAMESPACE_PREFIX}/${stage}` });
  return {
    recordRefused: () => metrics.addMetric(USAGE_RECORDS_REFUSED, MetricUnit.Count, 1),
    flush: () => {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    },
  };
}
