import { describe, expect, it } from 'vitest';
import { networkOf } from './ip-network';

/** What the network watch asks: are two addresses on the same network? */
const sameNetwork = (a: string, b: string) => networkOf(a) === networkOf(b);

describe('networkOf', () => {
	const CASES: Array<[string, string]> = [
		['203.0.113.5', '203.0.113.5'],
		['::ffff:203.0.113.5', '203.0.113.5'],
		['::FFFF:203.0.113.5', '203.0.113.5'],
		[' 203.0.113.5 ', '203.0.113.5'],
		['2001:db8:1:2::1', '2001:db8:1:2::/64'],
		['2001:0db8:0001:0002::1', '2001:db8:1:2::/64'],
		['2001:DB8:1:2::ABCD', '2001:db8:1:2::/64'],
		['1:2:3:4:5:6:7:8', '1:2:3:4::/64'],
		['2001:db8::1:0:0:1', '2001:db8:0:0::/64'],
		['::1', '0:0:0:0::/64'],
		['::', '0:0:0:0::/64'],
		['fe80::1%eth0', 'fe80:0:0:0::/64'],
		['64:ff9b::203.0.113.5', '64:ff9b:0:0::/64'],
		['2001:db8:1:2:3:4:203.0.113.5', '2001:db8:1:2::/64'],
		['unknown', 'unknown'],
		['', '']
	];

	it.each(CASES)('%j → %j', (address, network) => {
		expect(networkOf(address)).toBe(network);
	});
});

describe('sameNetwork', () => {
	const SAME: Array<[string, string, string]> = [
		['the same IPv4 address', '203.0.113.5', '203.0.113.5'],
		['an IPv4-mapped IPv6 address and its IPv4 address', '::ffff:203.0.113.5', '203.0.113.5'],
		['two addresses in one /64', '2001:db8:1:2::1', '2001:db8:1:2:abcd:ef01:2345:6789'],
		['leading zeros and zero compression', '2001:0db8:0001:0002::1', '2001:db8:1:2:0:0:0:1'],
		['leading zeros against the short form', '2001:0db8:0001:0002::1', '2001:db8:1:2::ffff'],
		['upper and lower case', '2001:DB8:1:2::ABCD', '2001:db8:1:2::1'],
		['loopback and its neighbour', '::1', '::2'],
		['link-local addresses with zone ids', 'fe80::1%eth0', 'fe80::2%wlan0'],
		['a zone id and no zone id', 'fe80::1%eth0', 'fe80::1'],
		['an embedded IPv4 tail and its hex form', '64:ff9b::203.0.113.5', '64:ff9b::cb00:7105'],
		['an embedded IPv4 tail and another address in its /64', '64:ff9b::203.0.113.5', '64:ff9b::1'],
		['the same non-IP string', 'unknown', 'unknown'],
		['two empty strings', '', '']
	];

	const DIFFERENT: Array<[string, string, string]> = [
		['neighbouring IPv4 addresses', '203.0.113.5', '203.0.113.6'],
		['an IPv4-mapped IPv6 address and another IPv4 address', '::ffff:203.0.113.5', '203.0.113.6'],
		['neighbouring /64s', '2001:db8:1:2::1', '2001:db8:1:3::1'],
		['different /64s written with leading zeros', '2001:0db8:0001:0002::1', '2001:db8:1:3::1'],
		['a link-local and a global address', 'fe80::1%eth0', '2001:db8:1:2::1'],
		['IPv4 and IPv6', '203.0.113.5', '2001:db8:1:2::1'],
		['two different non-IP strings', 'unknown', 'localhost'],
		['a non-IP string and an IPv4 address', 'unknown', '203.0.113.5'],
		['a non-IP string and an IPv6 address', 'unknown', '2001:db8:1:2::1'],
		['an empty string and an IPv4 address', '', '203.0.113.5'],
		['an empty string and an IPv6 address', '', '::1'],
		['an empty string and a non-IP string', '', 'unknown']
	];

	it.each(SAME)('treats %s as the same network', (_, a, b) => {
		expect(sameNetwork(a, b)).toBe(true);
		expect(sameNetwork(b, a)).toBe(true);
	});

	it.each(DIFFERENT)('treats %s as different networks', (_, a, b) => {
		expect(sameNetwork(a, b)).toBe(false);
		expect(sameNetwork(b, a)).toBe(false);
	});
});

describe('IPv4-mapped addresses in hex', () => {
	it('are the IPv4 address they carry', () => {
		expect(networkOf('::ffff:cb00:7105')).toBe('203.0.113.5');
		expect(sameNetwork('::ffff:cb00:7105', '203.0.113.5')).toBe(true);
		expect(sameNetwork('::ffff:cb00:7105', '::ffff:c633:6407')).toBe(false);
	});
});
