import { error } from '@sveltejs/kit';

/**
 * The submitted form as plain strings. A body that is not a form (wrong content type,
 * truncated, garbage) is the client's mistake: 400 with a message, never a 500.
 */
export async function readForm(request: Request): Promise<(name: string) => string> {
	let form: FormData;
	try {
		form = await request.formData();
	} catch {
		error(400, 'The form could not be read. Please reload the page and try again.');
	}
	return (name) => {
		const value = form.get(name);
		return typeof value === 'string' ? value : '';
	};
}
