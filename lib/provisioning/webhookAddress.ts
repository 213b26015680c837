/**
 * Where the webhook may connect. A seller's product on the internet is never on a loopback, private, link-local
 * (cloud metadata: 169.254.169.254, fd00:ec2::254), shared (CGNAT), unspecified, multicast or reserved address, in
 * any spelling (IPv4-mapped and NAT64 IPv6 included); unless WEBHOOK_ALLOW_PRIVATE_HOSTS allows them, such
 * addresses are refused. The check runs inside the connection's own DNS lookup, so the address checked is the
 * address connected to: a name that changes its answer between a check and the connection gains nothing.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';

export type RestrictedRange =
  'loopback' | 'private' | 'link-local' | 'shared (CGNAT)' | 'unspecified' | 'multicast' | 'reserved' | 'not an IP address';

/** The setting that lets the webhook reach restricted addresses (a product on the same machine or network). */
export const ALLOW_SETTING = 'WEBHOOK_ALLOW_PRIVATE_HOSTS';

/** A webhook host that must not be connected to: a permanent failure, never retried. */
export class RefusedWebhookHost extends Error {
  override name = 'RefusedWebhookHost';
}

type Range4 = readonly [first: number, prefixBits: number, range: RestrictedRange];

/** IPv4 ranges, as [first address as a 32-bit number, prefix length, range]. */
const IPV4_RANGES: readonly Range4[] = [
  [ipv4('0.0.0.0'), 8, 'unspecified'],
  [ipv4('10.0.0.0'), 8, 'private'],
  [ipv4('100.64.0.0'), 10, 'shared (CGNAT)'],
  [ipv4('127.0.0.0'), 8, 'loopback'],
  [ipv4('169.254.0.0'), 16, 'link-local'],
  [ipv4('172.16.0.0'), 12, 'private'],
  [ipv4('192.0.0.0'), 24, 'reserved'],
  [ipv4('192.168.0.0'), 16, 'private'],
  [ipv4('198.18.0.0'), 15, 'reserved'],
  [ipv4('224.0.0.0'), 4, 'multicast'],
  [ipv4('240.0.0.0'), 4, 'reserved'],
];

/** A dotted quad as an unsigned 32-bit number. */
function ipv4(address: string): number {
  return address.split('.').reduce((value, part) => value * 256 + Number(part), 0);
}

function inRange4(value: number, first: number, prefixBits: number): boolean {
  const size = 2 ** (32 - prefixBits);
  return value >= first && value < first + size;
}

function range4(address: number): RestrictedRange | undefined {
  return IPV4_RANGES.find(([first, bits]) => inRange4(address, first, bits))?.[2];
}

/** The eight 16-bit groups of a valid IPv6 address (a trailing dotted quad and a zone id allowed). */
function ipv6Groups(address: string): number[] {
  let text = address.split('%')[0]!;
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad) {
    const value = ipv4(quad[1]!);
    text = `${text.slice(0, quad.index)}${(value >>> 16).toString(16)}:${(value & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const first = parse(head);
  if (tail === undefined) return first;
  const last = parse(tail);
  return [...first, ...new Array<number>(8 - first.length - last.length).fill(0), ...last];
}

function range6(groups: number[]): RestrictedRange | undefined {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const embedded = g6 * 65536 + g7;
  const zeroUpTo = (n: number) => groups.slice(0, n).every((group) => group === 0);
  if (zeroUpTo(7) && g7 === 0) return 'unspecified';
  if (zeroUpTo(7) && g7 === 1) return 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d) and the NAT64 well-known prefix (64:ff9b::a.b.c.d) reach the embedded IPv4 address.
  if (zeroUpTo(5) && g5 === 0xffff) return range4(embedded);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return range4(embedded);
  // The rest of ::/96 (IPv4-compatible addresses) is deprecated.
  if (zeroUpTo(6)) return 'reserved';
  if ((g0 & 0xfe00) === 0xfc00) return 'private'; // fc00::/7, unique local (fd00:ec2::254 is EC2's metadata)
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local'; // fe80::/10
  if ((g0 & 0xffc0) === 0xfec0) return 'private'; // fec0::/10, the deprecated site-local
  if ((g0 & 0xff00) === 0xff00) return 'multicast'; // ff00::/8
  return undefined;
}

/** The restricted range an IP address is in, or undefined when it is a public address. */
export function restrictedRangeOf(address: string): RestrictedRange | undefined {
  const version = isIP(address.split('%')[0]!);
  if (version === 4) return range4(ipv4(address));
  if (version === 6) return range6(ipv6Groups(address));
  return 'not an IP address';
}

/** "a loopback address", "an unspecified address", "not an IP address". */
function described(range: RestrictedRange): string {
  if (range === 'not an IP address') return range;
  return `${/^[aeiou]/.test(range) ? 'an' : 'a'} ${range} address`;
}

function refusal(host: string, address: string, range: RestrictedRange): RefusedWebhookHost {
  const where = host === address ? `webhook host ${host} is` : `webhook host ${host} resolves to ${address},`;
  return new RefusedWebhookHost(`${where} ${described(range)}: refused (set ${ALLOW_SETTING}=true to allow private hosts)`);
}

/**
 * The refusal of a host given as an IP address (`127.0.0.1`, `[::1]`), or undefined. Such a host is connected to
 * without a lookup, so it is checked before the request.
 */
export function refusedLiteralHost(hostname: string, allowRestricted: boolean): RefusedWebhookHost | undefined {
  const address = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (allowRestricted || isIP(address) === 0) return undefined;
  const range = restrictedRangeOf(address);
  return range ? refusal(address, address, range) : undefined;
}

type Resolver = (
  hostname: string,
  options: LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * A DNS lookup for the webhook's connection: resolves every address of the name, refuses the name if any of them is
 * restricted (unless allowed), and hands the connection exactly the addresses it checked.
 */
export function checkedLookup(options: { allowRestricted: boolean; resolve?: Resolver }): LookupFunction {
  const resolve: Resolver = options.resolve ?? dnsLookup;
  return (hostname: string, asked: LookupOptions, callback) => {
    resolve(hostname, { family: asked.family ?? 0, hints: asked.hints ?? 0, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      if (addresses.length === 0) return callback(new RefusedWebhookHost(`webhook host ${hostname} resolves to no address`), []);
      if (!options.allowRestricted) {
        for (const { address } of addresses) {
          const range = restrictedRangeOf(address);
          if (range) return callback(refusal(hostname, address, range), []);
        }
      }
      if (asked.all) return callback(null, addresses);
      const [first] = addresses;
      return callback(null, first!.address, first!.family);
    });
  };
}
