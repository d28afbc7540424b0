import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a database server that can go silent: the connections
 * stay open and every byte either way is dropped, as with a stalled network path, a hung host
 * or a proxy that stops forwarding. Nothing is refused or reset, so the app only learns of it
 * from its own timeouts. A connection that dropped bytes is out of step with its server for
 * good; the app is expected to close it.
 */
export interface SilentProxy {
	port: number;
	/** `url` with its host and port replaced by the proxy's. */
	urlFor(url: string): string;
	/** From now on, every byte in either direction is dropped; connections stay open. */
	silence(): void;
	/** Bytes flow again, on the connections kept open and on new ones. */
	forward(): void;
	/** The most connections open at once since the last silence(). */
	peakConnections(): number;
	/**
	 * The connections the app is waiting on: opened, or written to, since the last silence().
	 * A connection kept idle in the app's pool is not among them.
	 */
	busyConnections(): number;
	close(): Promise<void>;
}

export async function startSilentProxy(target: { host: string; port: number }): Promise<SilentProxy> {
	let forwarding = true;
	let peak = 0;
	/** The client connections opened or written to since the last silence(). */
	const busy = new Set<Socket>();
	/** Each open client connection, and its connection to the server. */
	const pairs = new Map<Socket, Socket>();
	const closeBoth = (client: Socket) => {
		pairs.get(client)?.destroy();
		pairs.delete(client);
		busy.delete(client);
		client.destroy();
	};
	const server = createServer((client) => {
		const upstream = connect(target.port, target.host);
		pairs.set(client, upstream);
		peak = Math.max(peak, pairs.size);
		if (!forwarding) busy.add(client);
		const pass = (to: Socket) => (chunk: Buffer) => void (forwarding && to.write(chunk));
		client.on('data', (chunk: Buffer) => {
			if (!forwarding) busy.add(client);
			pass(upstream)(chunk);
		});
		upstream.on('data', pass(client));
		// The app closing a connection closes it at the server. The server closing one reaches
		// the app only while bytes flow: a silent path carries no news.
		client.on('close', () => closeBoth(client));
		client.on('error', () => closeBoth(client));
		upstream.on('error', () => upstream.destroy());
		upstream.on('close', () => void (forwarding && closeBoth(client)));
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		port,
		urlFor(url) {
			const proxied = new URL(url);
			proxied.hostname = '127.0.0.1';
			proxied.port = String(port);
			return proxied.toString();
		},
		silence() {
			forwarding = false;
			peak = pairs.size;
			busy.clear();
		},
		forward() {
			forwarding = true;
			for (const [client, upstream] of pairs) if (upstream.destroyed) closeBoth(client);
		},
		peakConnections: () => peak,
		busyConnections: () => busy.size,
		close() {
			for (const client of pairs.keys()) closeBoth(client);
			return new Promise<void>((resolve) => server.close(() => resolve()));
		}
	};
}
