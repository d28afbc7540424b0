import type { TestSequencer, TestSpecification, Vitest } from 'vitest/node';

const isLeakScan = (file: TestSpecification) => file.moduleId.endsWith('/tests/soak/leak-scan.test.ts');

/**
 * Vitest's own order, except that the soak leak scan comes after every other file: it reads
 * what they recorded. (vitest/node is loaded on first use, not when `vite build` reads the config.)
 */
export class LeakScanLast implements TestSequencer {
	private readonly vitest: Vitest;

	constructor(vitest: Vitest) {
		this.vitest = vitest;
	}

	async shard(files: TestSpecification[]): Promise<TestSpecification[]> {
		return (await this.base()).shard(files);
	}

	async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
		const sorted = await (await this.base()).sort(files);
		return [...sorted.filter((file) => !isLeakScan(file)), ...sorted.filter(isLeakScan)];
	}

	private async base(): Promise<TestSequencer> {
		const { BaseSequencer } = await import('vitest/node');
		return new BaseSequencer(this.vitest);
	}
}
