import { afterEach, describe, expect, it, vi } from 'vitest';
import { usagePushMetrics } from '#lib/usage/metrics.ts';

/**
 * The usage push's metrics adapter (lib/usage/metrics.ts): what it writes to stdout is CloudWatch's embedded
 * metric format, one JSON line per flush, in the stage's namespace; nothing at all when nothing was counted.
 * (test/infra/template.test.ts checks that the alarm watches exactly this metric.)
 */

function capturedStdout(): { lines: () => string[]; restore: () => void } {
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  return { lines: () => written.join('').split('\n').filter(Boolean), restore: () => spy.mockRestore() };
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('usagePushMetrics', () => {
  it('writes the refused records as one EMF line in the stage namespace, with the service dimension', () => {
    // Prepare
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'koogallery-isv');
    const stdout = capturedStdout();

    // Act
    try {
      const metrics = usagePushMetrics('prod');
      metrics.recordRefused();
      metrics.recordRefused();
      metrics.flush();
    } finally {
      stdout.restore();
    }

    // Assess
    const lines = stdout.lines();
    expect(lines).toHaveLength(1);
    const emf = JSON.parse(lines[0]!) as Record<string, unknown> & { _aws: { CloudWatchMetrics: unknown[] } };
    expect(emf._aws.CloudWatchMetrics).toEqual([
      { Namespace: 'KooGalleryISV/prod', Dimensions: [['service']], Metrics: [{ Name: 'UsageRecordsRefused', Unit: 'Count' }] },
    ]);
    expect(emf.service).toBe('koogallery-isv');
    expect(emf.UsageRecordsRefused).toEqual([1, 1]);
  });

  it('writes nothing, not even a warning, when no record was refused', () => {
    // Prepare
    const stdout = capturedStdout();
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);

    // Act
    try {
      usagePushMetrics('prod').flush();
    } finally {
      stdout.restore();
    }

    // Assess
    expect(stdout.lines()).toEqual([]);
    expect(stderr).not.toHaveBeenCalled();
    stderr.mockRestore();
  });
});
