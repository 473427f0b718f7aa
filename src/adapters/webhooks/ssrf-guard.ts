import dns from 'node:dns';
import net from 'node:net';

/** Resolves a host name to its addresses (dns.lookup by default; tests inject their own). */
export type Resolver = (hostname: string) => Promise<{ address: string; family: 4 | 6 }[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await dns.promises.lookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family as 4 | 6 }));

export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'reserved';

function blockList(entries: [string, number, 'ipv4' | 'ipv6'][]): net.BlockList {
  const list = new net.BlockList();
  for (const [address, prefix, type] of entries) list.addSubnet(address, prefix, type);
  return list;
}

// Instance metadata and credential endpoints: AWS (IPv4 and its Nitro IPv6), ECS task credentials, Alibaba.
const METADATA = blockList([['169.254.169.254', 32, 'ipv4'], ['169.254.170.2', 32, 'ipv4'], ['100.100.100.200', 32, 'ipv4'], ['fd00:ec2::254', 128, 'ipv6']]);
const LOOPBACK = blockList([['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']]);
const LINK_LOCAL = blockList([['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']]);
// RFC 1918, carrier-grade NAT (RFC 6598), unique local IPv6, and NAT64 (which reaches IPv4 behind it).
const PRIVATE = blockList([
  ['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['100.64.0.0', 10, 'ipv4'],
  ['fc00::', 7, 'ipv6'], ['64:ff9b::', 96, 'ipv6'], ['64:ff9b:1::', 48, 'ipv6'],
]);
// Never a receiver: "this network", multicast, reserved and broadcast, the unspecified and multicast IPv6.
const RESERVED = blockList([['0.0.0.0', 8, 'ipv4'], ['224.0.0.0', 4, 'ipv4'], ['240.0.0.0', 4, 'ipv4'], ['::', 128, 'ipv6'], ['ff00::', 8, 'ipv6']]);

/** What kind of address this is; IPv4-mapped IPv6 (::ffff:10.0.0.1) counts as its IPv4 address. */
export function classifyAddress(address: string): AddressClass {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const ip = mapped ? mapped[1]! : address;
  const type = net.isIPv4(ip) ? 'ipv4' : net.isIPv6(ip) ? 'ipv6' : null;
  if (!type) return 'reserved';
  if (METADATA.check(ip, type)) return 'metadata';
  if (RESERVED.check(ip, type)) return 'reserved';
  if (LOOPBACK.check(ip, type)) return 'loopback';
  if (LINK_LOCAL.check(ip, type)) return 'link-local';
  if (PRIVATE.check(ip, type)) return 'private';
  return 'public';
}

/** Why this address may not be sent to, or null when it may. Metadata and reserved addresses never may. */
export function refusalOf(address: string, allowPrivate: boolean): string | null {
  const kind = classifyAddress(address);
  if (kind === 'public') return null;
  if (allowPrivate && (kind === 'loopback' || kind === 'private' || kind === 'link-local')) return null;
  if (kind === 'metadata') return `${address} is a cloud metadata address`;
  if (kind === 'reserved') return `${address} is not a routable unicast address`;
  return `${address} is a ${kind} address (set KEYWARDEN_WEBHOOK_ALLOW_PRIVATE=true to allow it)`;
}

export class WebhookTargetRefused extends Error {
  override name = 'WebhookTargetRefused';
}

export interface SsrfGuardOptions {
  allowPrivate: boolean;
  resolve?: Resolver;
}

/**
 * The SSRF guard of webhook URLs: https only (http too in private mode), no credentials in the URL, and
 * every address the host resolves to must be allowed. It checks at creation (checkUrl) and again when a
 * delivery connects (lookup, then the socket's remote address), so a name that resolves elsewhere later
 * (DNS rebinding) is refused when it matters.
 */
export class SsrfGuard {
  readonly allowPrivate: boolean;
  private readonly resolve: Resolver;

  constructor(options: SsrfGuardOptions) {
    this.allowPrivate = options.allowPrivate;
    this.resolve = options.resolve ?? systemResolver;
  }

  /** The URL's own faults (scheme, credentials, form), or null. */
  urlProblem(raw: string): string | null {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return 'is not a URL';
    }
    if (raw.length > 2048) return 'is longer than 2,048 characters';
    if (url.protocol !== 'https:' && !(this.allowPrivate && url.protocol === 'http:')) {
      return this.allowPrivate ? 'must be http or https' : 'must be https (http only with KEYWARDEN_WEBHOOK_ALLOW_PRIVATE=true)';
    }
    if (url.username || url.password) return 'must not carry credentials: they would be stored in clear (the signature authenticates Keywarden)';
    if (url.hash) return 'must not have a #fragment';
    return null;
  }

  /** Resolves the URL's host and refuses it when any address is refused (or none resolves). */
  async checkUrl(raw: string): Promise<string | null> {
    const problem = this.urlProblem(raw);
    if (problem) return problem;
    try {
      await this.addressesOf(new URL(raw).hostname);
      return null;
    } catch (err) {
      return err instanceof WebhookTargetRefused ? err.message : `host does not resolve (${(err as Error).message})`;
    }
  }

  /** Every address of a host, each allowed; throws WebhookTargetRefused otherwise. */
  async addressesOf(hostname: string): Promise<{ address: string; family: 4 | 6 }[]> {
    const host = hostname.replace(/^\[(.*)\]$/, '$1');
    const addresses = net.isIP(host) ? [{ address: host, family: (net.isIPv6(host) ? 6 : 4) as 4 | 6 }] : await this.resolve(host);
    if (addresses.length === 0) throw new Error(`${hostname} has no address`);
    for (const { address } of addresses) {
      const refusal = refusalOf(address, this.allowPrivate);
      if (refusal) throw new WebhookTargetRefused(`refused: ${hostname === address ? '' : `${hostname} resolves to `}${refusal}`);
    }
    return addresses;
  }

  /** A `lookup` for net/http(s) that connects only to allowed addresses. */
  readonly lookup: net.LookupFunction = (hostname, options, callback) => {
    this.addressesOf(hostname).then(
      (addresses) => {
        const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
        if (wanted.length === 0) return callback(Object.assign(new Error(`${hostname} has no IPv${options.family} address`), { code: 'ENOTFOUND' }), '', 4);
        if (options.all) return (callback as unknown as (err: null, all: { address: string; family: number }[]) => void)(null, wanted);
        callback(null, wanted[0]!.address, wanted[0]!.family);
      },
      (err: Error) => callback(Object.assign(err, { code: err instanceof WebhookTargetRefused ? 'EKEYWARDENREFUSED' : 'ENOTFOUND' }) as NodeJS.ErrnoException, '', 4),
    );
  };
}
