/**
 * Preloaded into the server under test by `npm run bench:profile` (NODE_OPTIONS=--import):
 * SIGUSR2 starts V8's sampling profiler, the next SIGUSR2 stops it and writes the profile as
 * `<n>.cpuprofile` into LATCHKEY_BENCH_PROFILE_DIR, n counting from 1. Only the load runs are
 * profiled, not the server's start or the bench's seeding.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const folder = process.env.LATCHKEY_BENCH_PROFILE_DIR;
const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 250 });
let profiling = false;
let written = 0;

process.on('SIGUSR2', () => {
	if (!profiling) {
		session.post('Profiler.start');
		profiling = true;
		return;
	}
	profiling = false;
	session.post('Profiler.stop', (error, result) => {
		if (error) throw error;
		written += 1;
		writeFileSync(join(folder, `${written}.cpuprofile`), JSON.stringify(result.profile));
	});
});
