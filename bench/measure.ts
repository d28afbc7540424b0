import { performance } from 'node:perf_hooks';

/** One way of validating a request's session. `call` resolves true when it found the signed-in user. */
export interface Contender {
	name: string;
	call: () => Promise<boolean>;
}

export interface Measurement {
	name: string;
	/** Microseconds per call in each round, in the order run. */
	roundMicros: number[];
	medianMicros: number;
	/** CPU time of the whole process per call (median of rounds); below medianMicros when calls wait on I/O. */
	medianCpuMicros: number;
	calls: number;
}

export interface Schedule {
	rounds: number;
	roundMs: number;
	warmupMs: number;
	/** Aborted on Ctrl-C: stops the run between calls so the scratch databases are dropped cleanly. */
	signal: AbortSignal;
}

/** Reading the clock after every call would add its own cost to calls of a few microseconds. */
const CALLS_PER_CLOCK_READ = 16;

/**
 * The order in which round `round` (from 0) runs `items`, each with its index: A B C, then
 * C B A, and so on. Alternating keeps drift in the machine's speed on all of them alike, and
 * reversing every other round keeps a steady drift within a round from always favouring the
 * first. Every bench that alternates takes its order from here.
 */
export function roundOrder<T>(items: readonly T[], round: number): Array<[number, T]> {
	const order = [...items.entries()];
	return round % 2 === 1 ? order.reverse() : order;
}

/**
 * Runs the contenders in turn, round after round (roundOrder), so that drift in the machine's
 * speed (frequency scaling, neighbours, GC pressure building up) lands on both alike; the
 * median of the rounds then drops a round spoilt by a hiccup.
 */
export async function measureAlternately(contenders: Contender[], schedule: Schedule): Promise<Measurement[]> {
	// JIT compilation and per-connection statement preparation happen here, not in round one.
	for (const contender of contenders) await runFor(contender, schedule.warmupMs, schedule.signal);
	const rounds = contenders.map(() => [] as Round[]);
	for (let round = 0; round < schedule.rounds; round++) {
		for (const [index, contender] of roundOrder(contenders, round))
			rounds[index]!.push(await runFor(contender, schedule.roundMs, schedule.signal));
	}
	return contenders.map((contender, index) => summarize(contender.name, rounds[index]!));
}

interface Round {
	micros: number;
	cpuMicros: number;
	calls: number;
}

/** Calls back to back for about `ms`; fails the run if any call missed the signed-in user. */
async function runFor(contender: Contender, ms: number, signal: AbortSignal): Promise<Round> {
	let calls = 0;
	let misses = 0;
	const cpuStart = process.cpuUsage();
	const start = performance.now();
	let now = start;
	while (now - start < ms) {
		signal.throwIfAborted();
		for (let i = 0; i < CALLS_PER_CLOCK_READ; i++) if (!(await contender.call())) misses++;
		calls += CALLS_PER_CLOCK_READ;
		now = performance.now();
	}
	if (misses > 0) throw new Error(`${contender.name}: ${misses} of ${calls} calls did not return the signed-in user`);
	const cpu = process.cpuUsage(cpuStart);
	return { micros: ((now - start) * 1000) / calls, cpuMicros: (cpu.user + cpu.system) / calls, calls };
}

function summarize(name: string, rounds: Round[]): Measurement {
	const roundMicros = rounds.map((round) => round.micros);
	const medianCpuMicros = median(rounds.map((round) => round.cpuMicros));
	const calls = rounds.reduce((sum, round) => sum + round.calls, 0);
	return { name, roundMicros, medianMicros: median(roundMicros), medianCpuMicros, calls };
}

export function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
