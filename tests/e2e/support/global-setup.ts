import { rmSync } from 'node:fs';
import { TRAFFIC_DIR } from './fixtures';

/** The leak scan reads this run's traffic only. */
export default function clearRecordedTraffic(): void {
	rmSync(TRAFFIC_DIR, { recursive: true, force: true });
}
