import { error } from '@sveltejs/kit';

/** For any body that is not a form this app's pages send; also SvelteKit's own 415 (handleError). */
export const UNREADABLE_FORM_MESSAGE = 'The form could not be read. Please reload the page and try again.';
const TOO_LARGE_MESSAGE = 'That form is too large to send. Please reload the page and try again.';

/**
 * The submitted form as plain strings. A body that is not a form (wrong content type,
 * truncated, garbage, a field sent twice) is the client's mistake: 400 with a message, never
 * a 500; one over BODY_SIZE_LIMIT is 413. Actions that have no fields read the form too, so
 * that such a request changes nothing.
 */
export async function readForm(request: Request): Promise<(name: string) => string> {
	let form: FormData;
	try {
		form = await request.formData();
	} catch (cause) {
		// adapter-node's body stream fails with a 413 once the body passes BODY_SIZE_LIMIT.
		if (statusOf(cause) === 413) error(413, TOO_LARGE_MESSAGE);
		error(400, UNREADABLE_FORM_MESSAGE);
	}
	// No form of ours repeats a name: which of two values was meant cannot be told.
	if (hasRepeatedField(form)) error(400, UNREADABLE_FORM_MESSAGE);
	return (name) => {
		const value = form.get(name);
		return typeof value === 'string' ? value : '';
	};
}

function statusOf(cause: unknown): unknown {
	return cause && typeof cause === 'object' && 'status' in cause ? cause.status : undefined;
}

function hasRepeatedField(form: FormData): boolean {
	const names = [...form.keys()];
	return new Set(names).size !== names.length;
}
