import type { SubmitFunction } from '$app/forms';

/**
 * Whether a form enhanced with `use:enhance={submission.track}` is waiting for the server, so
 * its buttons can be disabled against double submits. Without JavaScript it stays false.
 */
export function trackSubmission() {
	let pending = $state(false);
	const track: SubmitFunction = () => {
		pending = true;
		return async ({ update }) => {
			await update();
			pending = false;
		};
	};
	return {
		get pending() {
			return pending;
		},
		track
	};
}
