import net from 'node:net';
import type { IncomingMessage } from 'node:http';

// Who a request comes from, for the per-client limits: the socket's peer, unless that peer is one
// of the operator's trusted proxies, in which case X-Forwarded-For says, read from the right (each
// proxy appends the address it got the request from) up to the first address no trusted proxy
// owns. A header from anyone else is ignored: any client can write one.
export function clientOf(req: IncomingMessage, trustedProxies: ReadonlySet<string>): string {
  let address = normalise(req.socket.remoteAddress ?? '');
  if (trustedProxies.has(address)) {
    const forwarded = String(req.headers['x-forwarded-for'] ?? '').split(',').map((hop) => normalise(hop.trim())).filter(Boolean);
    while (forwarded.length && trustedProxies.has(address)) address = forwarded.pop()!;
  }
  return clientKey(address);
}

export function trustedProxySet(addresses: string[]) {
  for (const address of addresses) {
    if (!net.isIP(normalise(address))) throw new Error(`wirelab: bad configuration in the environment: WIRELAB_TRUSTED_PROXIES: "${address}" is not an IP address`);
  }
  return new Set(addresses.map(normalise));
}

// An IPv4 client seen on a dual-stack socket is written ::ffff:a.b.c.d.
function normalise(address: string) {
  return address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '').toLowerCase();
}

// One IPv6 host commonly holds a whole /64, so that is what counts as one client.
function clientKey(address: string) {
  if (net.isIPv6(address)) return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
  return address;
}

function expandIPv6(address: string) {
  const [head, tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((group) => group.replace(/^0+(?=.)/, ''));
}
