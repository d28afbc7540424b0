/** 0 done; 1 not found or failed; 2 bad arguments (decided before anything is loaded or opened). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Where results and diagnostics go: the process's streams in the CLI, arrays in tests. */
export interface Output {
	stdout(text: string): void;
	stderr(text: string): void;
}

/** The real streams. Session log lines go to stderr with other diagnostics: stdout stays the answer. */
export const processOutput: Output = {
	stdout: (text) => void process.stdout.write(`${text}\n`),
	stderr: (text) => void process.stderr.write(`${text}\n`)
};
