import { describe, expect, it } from 'vitest';
import { runRedriveCli } from '../../scripts/redrive.ts';
import { ownQueuePairs } from '../helpers/queues.ts';

/** npm run redrive against fauxqs: dead-lettered events go back to their queue, and only after they were sent. */

const { sqs, queuePair, bodies } = ownQueuePairs('redrive');

const out = () => {
  const lines: string[] = [];
  return { lines, io: { out: (l: string) => lines.push(l), err: (l: string) => lines.push(`ERR ${l}`) } };
};

describe('npm run redrive', () => {
  it('lists with --dry-run, then moves every dead-lettered event back to the queue', async () => {
    const { source, dlq } = await queuePair();
    for (const id of ['i-1:2', 'i-2:1', 'i-3:4'])
      await sqs.send('SendMessage', { QueueUrl: dlq, MessageBody: JSON.stringify({ eventId: id }) });

    const dry = out();
    expect(await runRedriveCli(['--dry-run'], source, dry.io)).toBe(0);
    expect(
      dry.lines
        .filter((l) => l.startsWith('dead-lettered'))
        .map((l) => l.split(/\s+/)[1])
        .sort(),
    ).toEqual(['i-1:2', 'i-2:1', 'i-3:4']);

    const move = out();
    expect(await runRedriveCli([], source, move.io)).toBe(0);
    expect(move.lines.at(-1)).toMatch(/^3 message\(s\) moved from /);
    expect(await bodies(source)).toEqual(['{"eventId":"i-1:2"}', '{"eventId":"i-2:1"}', '{"eventId":"i-3:4"}']);
    expect(await bodies(dlq)).toEqual([]);
  });

  it('answers bad arguments with the usage and moves nothing', async () => {
    const { source, dlq } = await queuePair();
    await sqs.send('SendMessage', { QueueUrl: dlq, MessageBody: '{"eventId":"x:1"}' });
    for (const argv of [['--max', '0'], ['--bogus'], ['extra']]) {
      const run = out();
      expect(await runRedriveCli(argv, source, run.io), argv.join(' ')).toBe(2);
      expect(run.lines.join('\n')).toContain('Usage:');
    }
    expect(await bodies(source)).toEqual([]);
  });
});
