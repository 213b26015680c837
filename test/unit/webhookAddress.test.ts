import type { LookupAddress, LookupOptions } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { checkedLookup, RefusedWebhookHost, restrictedRangeOf } from '#lib/provisioning/webhookAddress.ts';

/**
 * Where the webhook may connect (lib/provisioning/webhookAddress.ts): the ranges an outside seller's product can
 * never be in (loopback, private, link-local and metadata, CGNAT, unspecified, multicast, reserved), in every
 * spelling, and the lookup that checks every address a name resolves to before the connection is made.
 */

describe('restricted address ranges', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.10', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456:789a::1', 'private'],
    ['fd00:ec2::254', 'private'],
    ['fec0::1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['169.254.170.2', 'link-local'],
    ['169.254.0.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['100.64.0.1', 'shared (CGNAT)'],
    ['100.127.255.255', 'shared (CGNAT)'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['ff05::fb', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['::127.0.0.1', 'reserved'],
    ['::a9fe:a9fe', 'reserved'],
    ['not-an-address', 'not an IP address'],
  ])('%s is %s', (address, kind) => {
    expect(restrictedRangeOf(address)).toBe(kind);
  });

  it.each([
    '93.184.215.14',
    '8.8.8.8',
    '1.1.1.1',
    '9.255.255.255',
    '11.0.0.0',
    '100.63.255.255',
    '100.128.0.0',
    '126.255.255.255',
    '128.0.0.0',
    '169.253.255.255',
    '169.255.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.167.255.255',
    '192.169.0.0',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2a00:1450:4001:830::200e',
    'fbff:ffff::1',
    'fe00::1',
    '2001:db9::1',
    '::ffff:93.184.215.14',
    '64:ff9b::808:808',
  ])('%s is public', (address) => {
    expect(restrictedRangeOf(address)).toBeUndefined();
  });
});

type Resolved = LookupAddress[];

/** Runs the checked lookup over a fixed resolver answer, the way net.connect calls it (`all` or not). */
function lookUp(
  answer: Resolved | NodeJS.ErrnoException,
  allowRestricted: boolean,
  options: LookupOptions,
): Promise<{ error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number | undefined }> {
  const resolver = (
    _host: string,
    _options: LookupOptions & { all: true },
    done: (e: NodeJS.ErrnoException | null, a: Resolved) => void,
  ) => (answer instanceof Error ? done(answer, []) : done(null, answer));
  const lookup = checkedLookup({ allowRestricted, resolve: resolver });
  return new Promise((resolve) => lookup('hooks.example.com', options, (error, address, family) => resolve({ error, address, family })));
}

describe('checked lookup', () => {
  const publicAddresses: Resolved = [
    { address: '93.184.215.14', family: 4 },
    { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 },
  ];

  it('passes every address of a public name on, as net.connect asked (all, or the first)', async () => {
    expect(await lookUp(publicAddresses, false, { all: true })).toEqual({ error: null, address: publicAddresses, family: undefined });
    expect(await lookUp(publicAddresses, false, {})).toEqual({ error: null, address: '93.184.215.14', family: 4 });
  });

  it('refuses a name when any of its addresses is restricted, naming the host, the address and its range', async () => {
    const mixed: Resolved = [...publicAddresses, { address: '169.254.169.254', family: 4 }];
    for (const options of [{ all: true }, {}]) {
      const { error } = await lookUp(mixed, false, options);
      expect(error).toBeInstanceOf(RefusedWebhookHost);
      expect(error?.message).toBe(
        'webhook host hooks.example.com resolves to 169.254.169.254, a link-local address: refused (set WEBHOOK_ALLOW_PRIVATE_HOSTS=true to allow private hosts)',
      );
    }
  });

  it('passes a restricted address on when allowed', async () => {
    const loopback: Resolved = [{ address: '127.0.0.1', family: 4 }];
    expect(await lookUp(loopback, true, {})).toEqual({ error: null, address: '127.0.0.1', family: 4 });
  });

  it('passes a resolver error on as it is, and refuses an empty answer', async () => {
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND hooks.example.com'), { code: 'ENOTFOUND' });
    expect((await lookUp(notFound, false, {})).error).toBe(notFound);
    expect((await lookUp([], false, {})).error?.message).toMatch(/resolves to no address/);
  });
});
