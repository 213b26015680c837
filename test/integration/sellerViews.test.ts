import { randomInt } from 'node:crypto';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import type { Instance, InstanceState } from '#lib/instances/model.ts';
import { dynamoClient } from '#lib/aws/clients.ts';
import { InvalidCursorError } from '#lib/store/cursor.ts';
import type { AuditRecord } from '#lib/audit/records.ts';
import { keys } from '#lib/store/keys.ts';
import { InvalidQueryError, type ListInstancesQuery, type ListMessagesQuery, type Page } from '#lib/seller-api/ports.ts';
import { sellerViews } from '#lib/store/sellerViews.ts';
import { call, env, store, uniqueId } from '../helpers/produce.ts';
import { storedInstance } from '../helpers/instances.ts';

/**
 * The seller API's read side against DynamoDB Local. The tables are shared with the other test files, so every
 * instance listing here is filtered by a productId of its own, and the message log is read over days of the past
 * that nothing else writes to.
 */

const views = () => sellerViews(dynamoClient(), { main: env('MAIN_TABLE'), audit: env('AUDIT_TABLE') });
const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

/** An instance of a product written straight through the store (no outbox event), created `ageSeconds` ago. */
const seedInstance = (productId: string, ageSeconds: number, options: { state?: InstanceState; test?: boolean } = {}): Promise<Instance> =>
  storedInstance('view', { productId, ...options }, new Date(Date.now() - ageSeconds * 1000).toISOString());

/** Every page of a listing, following the cursors. */
async function allPages<T>(list: (cursor?: string) => Promise<Page<T>>, limit: number): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await list(cursor);
    expect(page.items.length).toBeLessThanOrEqual(limit);
    items.push(...page.items);
    cursor = page.nextCursor;
    pages++;
    expect(pages).toBeLessThan(100);
  } while (cursor);
  return { items, pages };
}

const listAll = (query: Omit<ListInstancesQuery, 'cursor'>) =>
  allPages((cursor) => views().listInstances({ ...query, ...(cursor ? { cursor } : {}) }), query.limit ?? 25);

const ids = (items: Instance[]) => items.map((i) => i.instanceId);

describe('listInstances', () => {
  it('carries the list index attributes on every instance item', async () => {
    const instance = await seedInstance(uniqueId('P'), 0);
    const item = await dynamoClient().send('GetItem', {
      TableName: env('MAIN_TABLE'),
      Key: marshall(keys.instance(instance.instanceId)),
      ConsistentRead: true,
    });
    expect(item.Item?.listKind).toEqual({ S: 'INSTANCE' });
    expect(item.Item?.listAt).toEqual({ S: `${instance.createdAt}#${instance.instanceId}` });
  });

  it('pages through every matching instance exactly once, newest first', async () => {
    const productId = uniqueId('P');
    const seeded: Instance[] = [];
    for (let i = 0; i < 27; i++)
      seeded.push(await seedInstance(productId, i, { state: i % 3 === 0 ? 'FROZEN' : 'ACTIVE', test: i % 4 === 0 }));
    const newestFirst = ids(seeded); // seeded from the newest (age 0) to the oldest

    for (const limit of [1, 5, 26, 27, 100]) {
      const { items, pages } = await listAll({ productId, limit });
      expect(ids(items), `limit ${limit}`).toEqual(newestFirst);
      expect(pages, `limit ${limit}`).toBeGreaterThanOrEqual(Math.ceil(27 / limit));
    }

    // The default page is 25, with a cursor to the remaining two; the instances come through the field whitelist.
    const first = await views().listInstances({ productId });
    expect(ids(first.items)).toEqual(newestFirst.slice(0, 25));
    expect(first.nextCursor).toBeDefined();
    expect(first.items[0]).toEqual(seeded[0]);
    for (const hidden of ['pk', 'sk', 'type', 'listKind', 'listAt', 'dueKind', 'dueAt', 'expiresAt'])
      expect(first.items[0]).not.toHaveProperty(hidden);
    const second = await views().listInstances({ productId, cursor: first.nextCursor! });
    expect(ids(second.items)).toEqual(newestFirst.slice(25));
    expect(second.nextCursor).toBeUndefined();

    // Sparse filters fill a page from several Query pages and still return every match once.
    const frozenReal = seeded.filter((s) => s.state === 'FROZEN' && !s.test);
    expect(ids((await listAll({ productId, state: 'FROZEN', test: false, limit: 2 })).items)).toEqual(ids(frozenReal));
    const full = await views().listInstances({ productId, state: 'FROZEN', test: false, limit: 100 });
    expect(ids(full.items)).toEqual(ids(frozenReal));
  });

  it('reads on through several Query pages to find a sparse match', async () => {
    const productId = uniqueId('P');
    const oldest = await seedInstance(productId, 300, { state: 'FROZEN' });
    for (let chunk = 0; chunk < 6; chunk++) {
      await Promise.all(Array.from({ length: 25 }, (_, i) => seedInstance(productId, 200 - chunk * 25 - i)));
    }
    const page = await views().listInstances({ productId, state: 'FROZEN' });
    expect(ids(page.items)).toEqual([oldest.instanceId]);
    expect(page.nextCursor).toBeUndefined();
    expect((await listAll({ productId, limit: 100 })).items).toHaveLength(151);
  });

  it('filters by state, productId and test, with a freeze through the marketplace interface', async () => {
    const productId = uniqueId('P');
    const created: string[] = [];
    for (const testFlag of ['0', '0', '1']) {
      const orderId = uniqueId('CS');
      const response = await call({
        activity: 'newInstance',
        orderId,
        orderLineId: `${orderId}-000001`,
        businessId: uniqueId('biz'),
        testFlag,
      });
      expect(response.json.resultCode).toBe('000000');
      const instanceId = response.json.instanceId as string;
      const renewal = {
        activity: 'refreshInstance',
        scene: 'RENEWAL_CHANGE',
        orderId: uniqueId('CS'),
        orderLineId: uniqueId('L'),
        instanceId,
        expireTime: '20300101000000',
        productId,
        testFlag,
      };
      expect((await call(renewal)).json.resultCode).toBe('000000');
      created.push(instanceId);
    }
    const [real, frozen, debug] = created as [string, string, string];
    expect((await call({ activity: 'updateInstanceStatus', instanceId: frozen, status: 'FREEZE' })).json.resultCode).toBe('000000');

    const list = async (query: ListInstancesQuery) => ids((await views().listInstances(query)).items);
    expect(await list({ productId })).toEqual([debug, frozen, real]);
    expect(await list({ productId, state: 'FROZEN' })).toEqual([frozen]);
    expect(await list({ productId, state: 'ACTIVE' })).toEqual([debug, real]);
    expect(await list({ productId, test: true })).toEqual([debug]);
    expect(await list({ productId, test: false, state: 'ACTIVE' })).toEqual([real]);
    expect(await list({ productId, state: 'RELEASED' })).toEqual([]);
    expect(await list({ productId: uniqueId('none') })).toEqual([]);
    const [frozenItem] = (await views().listInstances({ productId, state: 'FROZEN' })).items;
    expect(frozenItem).toMatchObject({ instanceId: frozen, state: 'FROZEN', productId, version: 3, expireTime: '20300101000000' });
  });

  it('refuses a limit out of 1..100 and an unknown state', async () => {
    for (const limit of [0, 101, 1.5, -1, Number.NaN]) {
      await expect(views().listInstances({ limit }), `limit ${limit}`).rejects.toThrow(InvalidQueryError);
    }
    await expect(views().listInstances({ limit: 101 })).rejects.toThrow(/limit must be an integer from 1 to 100/);
    await expect(views().listInstances({ state: 'DELETED' as InstanceState })).rejects.toThrow(InvalidQueryError);
    const productId = uniqueId('P');
    await seedInstance(productId, 0);
    expect((await views().listInstances({ productId, limit: 100 })).items).toHaveLength(1);
  });

  it('refuses a tampered cursor with InvalidCursorError', async () => {
    const productId = uniqueId('P');
    const [newer, older] = [await seedInstance(productId, 0), await seedInstance(productId, 1)];
    const page = await views().listInstances({ productId, limit: 1 });
    expect(ids(page.items)).toEqual([newer.instanceId]);
    const genuine = JSON.parse(Buffer.from(page.nextCursor!, 'base64url').toString('utf8')) as {
      list: string;
      key: Record<string, string>;
    };
    expect(ids((await views().listInstances({ productId, cursor: cursorOf(genuine) })).items)).toEqual([older.instanceId]);

    const messages = await views().listMessages({ from: '2001-01-01T00:00:00Z', to: '2001-01-05T00:00:00Z', limit: 1 });
    const messageCursor = messages.nextCursor ?? cursorOf({ list: 'messages', day: '2001-01-04' });
    const tampered: Array<[string, string]> = [
      ['garbage', 'definitely not a cursor'],
      ['base64 of garbage', Buffer.from('garbage').toString('base64url')],
      ['a cursor of the message log', messageCursor],
      ['another list kind', cursorOf({ ...genuine, key: { ...genuine.key, listKind: 'APIKEY' } })],
      ['a key of another item kind', cursorOf({ ...genuine, key: { ...genuine.key, pk: 'LICENSE#x', sk: '#LICENSE' } })],
      ['a pk that is not the listed instance', cursorOf({ ...genuine, key: { ...genuine.key, pk: keys.instance('someone-else').pk } })],
      ['a listAt without a time', cursorOf({ ...genuine, key: { ...genuine.key, listAt: `x#${newer.instanceId}` } })],
      ['a number for a key', cursorOf({ ...genuine, key: { ...genuine.key, listAt: 5 } })],
      ['an AttributeValue for a key', cursorOf({ ...genuine, key: { ...genuine.key, pk: { S: genuine.key.pk } } })],
      ['a missing key attribute', cursorOf({ list: 'instances', key: { listKind: 'INSTANCE', listAt: genuine.key.listAt } })],
      ['an extra key attribute', cursorOf({ ...genuine, key: { ...genuine.key, dueKind: 'EXPIRY' } })],
      ['an oversized cursor', cursorOf({ ...genuine, pad: 'x'.repeat(3000) })],
    ];
    for (const [name, cursor] of tampered) {
      await expect(views().listInstances({ productId, cursor }), name).rejects.toThrow(InvalidCursorError);
    }
  });
});

describe('instanceWithHistory', () => {
  it('returns the instance and its history oldest first, and undefined for an unknown id', async () => {
    const orderId = uniqueId('CS');
    const response = await call({ activity: 'newInstance', orderId, orderLineId: `${orderId}-000001`, businessId: uniqueId('biz') });
    const instanceId = response.json.instanceId as string;
    const status = (s: string) => call({ activity: 'updateInstanceStatus', instanceId, status: s });
    for (const s of ['FREEZE', 'UNFREEZE', 'FREEZE']) expect((await status(s)).json.resultCode).toBe('000000');

    const view = await views().instanceWithHistory(instanceId);
    expect(view?.instance).toMatchObject({ instanceId, state: 'FROZEN', version: 4 });
    expect(view?.instance).toEqual(await store().getInstance(instanceId));
    expect(view?.history.map((h) => [h.version, h.from, h.to])).toEqual([
      [1, undefined, 'ACTIVE'],
      [2, 'ACTIVE', 'FROZEN'],
      [3, 'FROZEN', 'ACTIVE'],
      [4, 'ACTIVE', 'FROZEN'],
    ]);
    expect(view?.history[0]).toMatchObject({ activity: 'newInstance', orderId, actor: 'marketplace' });
    for (const entry of view!.history) for (const hidden of ['pk', 'sk', 'type', 'expiresAt']) expect(entry).not.toHaveProperty(hidden);

    expect(await views().instanceWithHistory(uniqueId('ghost'))).toBeUndefined();
  });
});

describe('listMessages', () => {
  const DAY = 86_400_000;
  // Days of the past nothing else writes to: a random week between 2001 and 2020.
  const base = Date.parse('2001-01-01T00:00:00.000Z') + randomInt(0, 7000) * DAY;
  const iso = (day: number, time: string) => `${new Date(base + day * DAY).toISOString().slice(0, 10)}T${time}Z`;

  /** A refused call (000001) claims an activity; an authenticated one names it. */
  async function putRecord(at: string, resultCode: string): Promise<AuditRecord> {
    const named = resultCode === '000001' ? { claimedActivity: 'queryInstance__script_' } : { activity: 'queryInstance' };
    const record: AuditRecord = {
      at,
      correlationId: uniqueId('c'),
      channel: 'produce',
      resultCode,
      latencyMs: 12,
      bodySha256: 'a'.repeat(64),
      bodyBytes: 120,
      ...named,
      instanceId: uniqueId('i'),
      test: false,
    };
    await dynamoClient().send('PutItem', {
      TableName: env('AUDIT_TABLE'),
      Item: marshall({ ...keys.auditMessage(at, record.correlationId), ...record }),
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    return record;
  }

  // Four days; day 2 is empty. Records exactly at `from` and `to` are in; just outside either, out.
  const from = iso(0, '10:00:00.000');
  const to = iso(3, '12:00:00.000');
  const layout: Array<[number, string, string]> = [
    [0, '09:59:59.999', '000000'], // before from
    [0, '10:00:00.000', '000002'], // at from
    [0, '13:00:00.000', '000000'],
    [0, '23:59:59.999', '000002'],
    [1, '00:00:00.000', '000000'],
    [1, '08:30:00.000', '000002'],
    [1, '08:30:00.000', '000002'],
    [1, '20:00:00.000', '000000'],
    [3, '01:00:00.000', '000001'],
    [3, '11:00:00.000', '000002'],
    [3, '12:00:00.000', '000000'], // at to
    [3, '12:00:00.001', '000002'], // after to
  ];
  let seeded: Promise<AuditRecord[]> | undefined;
  const seed = () =>
    (seeded ??= (async () => {
      const records: AuditRecord[] = [];
      for (const [day, time, code] of layout) records.push(await putRecord(iso(day, time), code));
      return records;
    })());
  const sk = (r: AuditRecord) => `${r.at}#${r.correlationId}`;
  const inRangeNewestFirst = async () => (await seed()).filter((r) => r.at >= from && r.at <= to).sort((a, b) => (sk(a) < sk(b) ? 1 : -1));
  const listAllMessages = (query: Omit<ListMessagesQuery, 'cursor'>) =>
    allPages((cursor) => views().listMessages({ ...query, ...(cursor ? { cursor } : {}) }), query.limit ?? 50);

  it('walks the days from to back to from, newest first, with the bounds included', async () => {
    const expected = await inRangeNewestFirst();
    expect(expected).toHaveLength(10);
    const page = await views().listMessages({ from, to });
    expect(page.items).toEqual(expected);
    expect(page.nextCursor).toBeUndefined();
    // Offsets other than Z name the same instants.
    const shifted = await views().listMessages({ from: from.replace('T10:00', 'T12:00').replace('Z', '+02:00'), to });
    expect(shifted.items).toEqual(expected);
  });

  it('pages with a cursor across days, every record exactly once, with and without a resultCode filter', async () => {
    const expected = await inRangeNewestFirst();
    for (const limit of [1, 2, 3, 9, 10]) {
      expect((await listAllMessages({ from, to, limit })).items, `limit ${limit}`).toEqual(expected);
    }
    const rejected = expected.filter((r) => r.resultCode === '000002');
    expect(rejected).toHaveLength(5);
    for (const limit of [1, 2, 5, 200]) {
      expect((await listAllMessages({ from, to, resultCode: '000002', limit })).items, `limit ${limit}`).toEqual(rejected);
    }
    const [refused] = (await views().listMessages({ from, to, resultCode: '000001' })).items;
    expect(refused).toMatchObject({ resultCode: '000001', claimedActivity: 'queryInstance__script_' });
    expect(refused).not.toHaveProperty('activity');
    expect((await views().listMessages({ from, to, resultCode: '999999' })).items).toEqual([]);
  });

  it('refuses from after to, a range over 31 days, non-ISO times and a limit out of 1..200', async () => {
    await expect(views().listMessages({ from: to, to: from })).rejects.toThrow(/from must not be after to/);
    await expect(views().listMessages({ from: iso(0, '00:00:00.000'), to: iso(31, '00:00:00.001') })).rejects.toThrow(/at most 31 days/);
    await expect(views().listMessages({ from: iso(0, '00:00:00.000'), to: iso(31, '00:00:00.000') })).resolves.toMatchObject({
      items: expect.any(Array),
    });
    for (const bad of ['yesterday', '2024-01-01', '']) {
      await expect(views().listMessages({ from: bad, to }), bad).rejects.toThrow(InvalidQueryError);
    }
    for (const limit of [0, 201, 2.5]) await expect(views().listMessages({ from, to, limit })).rejects.toThrow(InvalidQueryError);
    expect(new InvalidQueryError('x')).toBeInstanceOf(RangeError);
  });

  it('refuses a cursor of another listing or another time range', async () => {
    await seed();
    const page = await views().listMessages({ from, to, limit: 3 });
    expect(page.nextCursor).toBeDefined();
    const genuine = JSON.parse(Buffer.from(page.nextCursor!, 'base64url').toString('utf8')) as {
      list: string;
      day: string;
      key?: Record<string, string>;
    };
    expect(genuine.key?.pk).toBe(`MSG#${genuine.day}`);

    const productId = uniqueId('P');
    await seedInstance(productId, 0);
    await seedInstance(productId, 1);
    const instanceCursor = (await views().listInstances({ productId, limit: 1 })).nextCursor!;
    const tampered: Array<[string, string]> = [
      ['a cursor of the instance listing', instanceCursor],
      ['garbage', '%%%'],
      ['a pk that is not a message day', cursorOf({ ...genuine, key: { ...genuine.key, pk: 'INSTANCE#x' } })],
      ['a pk of another day', cursorOf({ ...genuine, key: { ...genuine.key, pk: 'MSG#1999-01-01' } })],
      ['a day that does not exist', cursorOf({ list: 'messages', day: '2001-02-30' })],
      ['a day outside the range', cursorOf({ list: 'messages', day: iso(5, '00:00:00.000').slice(0, 10) })],
      [
        'a key outside the range',
        cursorOf({
          ...genuine,
          key: { pk: `MSG#${iso(0, '').slice(0, 10)}`, sk: `${iso(0, '09:00:00.000')}#c` },
          day: iso(0, '').slice(0, 10),
        }),
      ],
    ];
    for (const [name, cursor] of tampered) {
      await expect(views().listMessages({ from, to, cursor }), name).rejects.toThrow(InvalidCursorError);
    }
    // The genuine cursor resumes where the first page stopped.
    const rest = await views().listMessages({ from, to, cursor: page.nextCursor!, limit: 200 });
    expect([...page.items, ...rest.items]).toEqual(await inRangeNewestFirst());
  });
});
