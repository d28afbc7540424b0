import { isIPv4, isIPv6 } from 'node:net';

/**
 * The network an address belongs to, for deciding whether a session "moved": an IPv4
 * address is its own network; an IPv6 address is compared by its /64 prefix, because one
 * device rotates through addresses inside its /64 (privacy extensions) all day.
 * Anything that is not an IP address is compared as given.
 */
export function networkOf(address: string): string {
	const ip = address.trim().toLowerCase();
	if (isIPv4(ip) || !isIPv6(ip)) return ip;
	const hextets = expandIPv6(ip);
	if (isIPv4Mapped(hextets)) return ipv4FromHextets(hextets[6]!, hextets[7]!);
	return `${hextets.slice(0, 4).join(':')}::/64`;
}

/** `::ffff:a.b.c.d` (or its hex spelling `::ffff:xxxx:xxxx`) is an IPv4 client seen over IPv6. */
function isIPv4Mapped(hextets: string[]): boolean {
	return hextets.slice(0, 5).every((part) => part === '0') && hextets[5] === 'ffff';
}

function ipv4FromHextets(high: string, low: string): string {
	const [h, l] = [parseInt(high, 16), parseInt(low, 16)];
	return [h >> 8, h & 255, l >> 8, l & 255].join('.');
}

/** Eight hextets without leading zeros, `::` expanded; an embedded IPv4 tail becomes two hextets. */
function expandIPv6(ip: string): string[] {
	const withoutZone = ip.split('%')[0]!;
	const withHexTail = withoutZone.replace(/(\d{1,3}(?:\.\d{1,3}){3})$/, (ipv4) => {
		const [a, b, c, d] = ipv4.split('.').map(Number) as [number, number, number, number];
		return `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
	});
	const [head = '', tail] = withHexTail.split('::');
	const headParts = head ? head.split(':') : [];
	const tailParts = tail ? tail.split(':') : [];
	const zeros = tail === undefined ? [] : Array(8 - headParts.length - tailParts.length).fill('0');
	return [...headParts, ...zeros, ...tailParts].map((part) => parseInt(part, 16).toString(16));
}
