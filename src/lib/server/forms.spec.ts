import { isHttpError } from '@sveltejs/kit';
import { describe, expect, it } from 'vitest';
import { readForm } from './forms';

function post(body: BodyInit, contentType?: string): Request {
	const headers = contentType ? { 'content-type': contentType } : undefined;
	return new Request('http://localhost/login?/sendCode', { method: 'POST', body, headers });
}

/** What readForm refused the request with, or null when it read the form. */
async function refusal(request: Request): Promise<{ status: number; message: string } | null> {
	try {
		await readForm(request);
		return null;
	} catch (thrown) {
		if (!isHttpError(thrown)) throw thrown;
		return { status: thrown.status, message: thrown.body.message };
	}
}

/** A body stream failing the way adapter-node's does past BODY_SIZE_LIMIT. */
function oversizedBody(): ReadableStream<Uint8Array> {
	return new ReadableStream({
		start(controller) {
			controller.error(Object.assign(new Error('request body size exceeded BODY_SIZE_LIMIT'), { status: 413 }));
		}
	});
}

describe('readForm', () => {
	it('reads fields as strings, and a missing one as empty', async () => {
		const field = await readForm(post(new URLSearchParams({ email: 'a@example.com' })));
		expect(field('email')).toBe('a@example.com');
		expect(field('code')).toBe('');
	});

	it('reads a file where a string is expected as empty', async () => {
		const form = new FormData();
		form.set('email', new Blob(['<script>alert(1)</script>'], { type: 'text/html' }), 'x.html');
		expect((await readForm(post(form)))('email')).toBe('');
	});

	it.each([
		['a field sent twice', post('email=a%40example.com&email=b%40example.com', 'application/x-www-form-urlencoded')],
		['a multipart body without its boundary', post('--x\r\nnot a part', 'multipart/form-data')],
		['a text/plain body', post('email=a@example.com', 'text/plain')]
	])('refuses %s with 400 and a message', async (_, request) => {
		expect(await refusal(request)).toEqual({
			status: 400,
			message: 'The form could not be read. Please reload the page and try again.'
		});
	});

	it('refuses a body over the size limit with 413 and a message', async () => {
		const request = new Request('http://localhost/logout', {
			method: 'POST',
			body: oversizedBody(),
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			duplex: 'half'
		} as RequestInit);
		expect(await refusal(request)).toEqual({
			status: 413,
			message: 'That form is too large to send. Please reload the page and try again.'
		});
	});
});
