import { clearRecordings } from './recordings';

/** Each soak run's leak scan looks only at what this run recorded. */
export default function setup(): void {
	clearRecordings();
}
