/**
 * One autocannon run in a process of its own, for `npm run bench -- --netns NAME`: started by
 * load.ts under `ip netns exec NAME`, so that the load comes from another network namespace
 * over a veth pair (bench/netns.sh) instead of the server's loopback. Reads its run on stdin as
 * JSON, writes what autocannon saw, its own CPU time and where the cookie rotation stands on
 * stdout as JSON. Cookies rotate as in load.ts: the next user's cookie for every request.
 *
 * With `delayMs`, the requests go through a relay in this process that holds every chunk, each
 * way, that long before passing it on: a link with latency, where the kernel's netem is not
 * available. The relay's CPU time counts as the client's.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import autocannon from 'autocannon';

export interface ClientRun {
	url: string;
	headers: Record<string, string>;
	connections: number;
	seconds: number;
	cookies: string[];
	/** The rotation's position to start from (load.ts keeps it across runs). */
	start: number;
	/** Milliseconds each chunk is held, each way; 0: straight to the server. */
	delayMs: number;
}

export interface ClientResult {
	requests: number;
	duration: number;
	p50: number;
	p99: number;
	failures: number;
	/** This process's CPU time during the run, microseconds. */
	cpuMicros: number;
	/** Where the rotation stands after the run. */
	next: number;
}

/** A relay on a free loopback port to `host:port`, holding each chunk `delayMs` each way, in order. */
async function delayingRelay(host: string, port: number, delayMs: number): Promise<Server> {
	const pipeDelayed = (from: Socket, to: Socket) => {
		from.on('data', (chunk) => setTimeout(() => to.write(chunk), delayMs));
		from.on('end', () => setTimeout(() => to.end(), delayMs));
		from.on('error', () => to.destroy());
	};
	const relay = createServer((client) => {
		client.setNoDelay(true);
		const server = connect({ host, port, noDelay: true });
		pipeDelayed(client, server);
		pipeDelayed(server, client);
	});
	await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
	return relay;
}

async function run(options: ClientRun): Promise<ClientResult> {
	if (options.delayMs === 0) return load(options);
	const target = new URL(options.url);
	const relay = await delayingRelay(target.hostname, Number(target.port), options.delayMs);
	try {
		const { port } = relay.address() as { port: number };
		// The Host header stays the server's own, as the client would send it without the relay.
		const headers = { ...options.headers, host: target.host };
		return await load({ ...options, headers, url: `http://127.0.0.1:${port}${target.pathname}${target.search}` });
	} finally {
		relay.close();
	}
}

async function load({ url, headers, connections, seconds, cookies, start }: ClientRun): Promise<ClientResult> {
	let next = start;
	const setupRequest = (request: autocannon.Request): autocannon.Request => {
		if (cookies.length === 0) return request;
		const cookie = cookies[next]!;
		next = (next + 1) % cookies.length;
		return { ...request, headers: { ...request.headers, cookie } };
	};
	const cpuBefore = process.cpuUsage();
	const result = await autocannon({ url, headers, requests: [{ setupRequest }], connections, duration: seconds });
	const cpu = process.cpuUsage(cpuBefore);
	return {
		requests: result.requests.total,
		duration: result.duration,
		p50: result.latency.p50,
		p99: result.latency.p99,
		failures: result.non2xx + result.errors + result.timeouts,
		cpuMicros: cpu.user + cpu.system,
		next
	};
}

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
process.stdout.write(JSON.stringify(await run(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ClientRun)));
