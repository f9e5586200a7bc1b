/*
 * api: the only module that talks to the daemon. It wraps fetch (the X-Auth-Token
 * header, JSON bodies, timeouts, the API's error_msg) and reads the events stream; pages
 * call the named functions below and never build a URL themselves.
 *
 * The session (token and project) lives in sessionStorage only: never in a cookie, never
 * in the URL, gone when the tab closes. A 401 on any call ends it (onUnauthorized).
 */

const KEY_TOKEN = 'lwm2md.token';
const KEY_PROJECT = 'lwm2md.project';
const DEFAULT_TIMEOUT_MS = 15000;
// A call that waits for a device gets the server's own timeout (?timeout=) plus this.
const DEVICE_MARGIN_MS = 5000;

/* An answer that is not 2xx, or a call that did not get one. status is 0 when no answer
 * came (network, timeout, aborted). */
export class ApiError extends Error {
	constructor(status, message, body = null, kind = 'http') {
		super(message);
		this.status = status;
		this.body = body;
		this.kind = kind; // 'http' | 'timeout' | 'network' | 'aborted'
		this.code = body && body.error_code;
	}

	/* The field the message names ("service_capabilities[0].properties[1].min: …",
	 * "auth_info.secret must …"), or ''. */
	get field() {
		const m = /^([a-z_]+(?:\[\d+\]|\.[a-z_]+)*)(?=[:\s])/i.exec(this.message);
		return m ? m[1] : '';
	}

	get aborted() {
		return this.kind === 'aborted';
	}

	/* One line for a person: "404 — product wm not found". */
	toString() {
		return this.status ? `${this.status} — ${this.message}` : this.message;
	}
}

let token = sessionStorage.getItem(KEY_TOKEN) || '';
let project = sessionStorage.getItem(KEY_PROJECT) || '';
let unauthorized = () => {};

export function session() {
	return token ? { project } : null;
}

/* Called once by the app: what to do when the token stops being accepted. */
export function onUnauthorized(fn) {
	unauthorized = fn;
}

/* Asks the daemon which project the token belongs to (GET /v5/token) and keeps both for
 * this tab. Throws the ApiError otherwise (401: the token is not valid). */
export async function signIn(newToken) {
	const t = newToken.trim();
	const who = await call('GET', ['token'], { root: true, token: t, quiet401: true });
	const p = who && typeof who.project_id === 'string' ? who.project_id : '';
	if (!p) throw new ApiError(0, 'the daemon did not name the token\'s project', null, 'network');
	token = t;
	project = p;
	sessionStorage.setItem(KEY_TOKEN, t);
	sessionStorage.setItem(KEY_PROJECT, p);
}

export function signOut() {
	token = '';
	project = '';
	sessionStorage.removeItem(KEY_TOKEN);
	sessionStorage.removeItem(KEY_PROJECT);
}

function queryString(query) {
	const parts = [];
	for (const [k, v] of Object.entries(query || {})) {
		if (v === undefined || v === '' || v === false) continue;
		// null: the name alone ("?pmin" clears an attribute).
		parts.push(v === null ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
	}
	return parts.length ? `?${parts.join('&')}` : '';
}

/* A route below /v5/ that names no project (GET /v5/token). */
function rootUrl(segments, query) {
	const path = ['v5', ...segments].map((x) => encodeURIComponent(String(x))).join('/');
	return `/${path}${queryString(query)}`;
}

function projectUrl(segments, query, p = project) {
	const path = ['v5', 'iot', p, ...segments].map((x) => encodeURIComponent(String(x))).join('/');
	return `/${path}${queryString(query)}`;
}

/* Joins an abort signal of the caller's with a timeout; returns the controller's signal
 * and a function telling why it ended. */
function deadline(signal, ms) {
	const ctrl = new AbortController();
	let timedOut = false;
	const timer = setTimeout(() => {
		timedOut = true;
		ctrl.abort();
	}, ms);
	const onAbort = () => ctrl.abort();
	if (signal) {
		if (signal.aborted) ctrl.abort();
		else signal.addEventListener('abort', onAbort, { once: true });
	}
	return {
		signal: ctrl.signal,
		timedOut: () => timedOut,
		done: () => {
			clearTimeout(timer);
			if (signal) signal.removeEventListener('abort', onAbort);
		},
	};
}

async function errorOf(res) {
	let body = null;
	try {
		body = await res.json();
	} catch (e) {
		body = null;
	}
	const msg = body && typeof body.error_msg === 'string' ? body.error_msg : res.statusText || 'no message';
	return new ApiError(res.status, msg, body);
}

/*
 * One call. segments are the path below /v5/iot/{project}/ (below /v5/ with root: true);
 * opts: query, body (an object,
 * sent as JSON), raw (a Blob or File, sent as its bytes), timeoutMs, signal. Resolves to the parsed answer
 * (null for 204); rejects with an ApiError.
 */
async function call(method, segments, opts = {}) {
	const t = opts.token !== undefined ? opts.token : token;
	const url = opts.root ? rootUrl(segments, opts.query) : projectUrl(segments, opts.query, opts.project || project);
	const headers = { 'X-Auth-Token': t, Accept: 'application/json' };
	let body;
	if (opts.body !== undefined) {
		headers['Content-Type'] = 'application/json';
		body = JSON.stringify(opts.body);
	} else if (opts.raw !== undefined) {
		// A file's bytes as they are (a firmware package): the browser streams the Blob.
		headers['Content-Type'] = 'application/octet-stream';
		body = opts.raw;
	}
	const d = deadline(opts.signal, opts.timeoutMs || DEFAULT_TIMEOUT_MS);
	let res;
	try {
		res = await fetch(url, { method, headers, body, signal: d.signal, cache: 'no-store' });
	} catch (e) {
		d.done();
		if (d.timedOut())
			throw new ApiError(0, `no answer within ${Math.round((opts.timeoutMs || DEFAULT_TIMEOUT_MS) / 1000)} s`, null, 'timeout');
		if (opts.signal && opts.signal.aborted) throw new ApiError(0, 'cancelled', null, 'aborted');
		throw new ApiError(0, `the daemon could not be reached (${e.message})`, null, 'network');
	}
	try {
		if (!res.ok) {
			const err = await errorOf(res);
			if (res.status === 401 && !opts.quiet401) unauthorized(err);
			throw err;
		}
		if (res.status === 204) return null;
		const text = await res.text();
		return text ? JSON.parse(text) : null;
	} catch (e) {
		if (e instanceof ApiError) throw e;
		if (d.timedOut()) throw new ApiError(0, 'the answer did not arrive in time', null, 'timeout');
		if (opts.signal && opts.signal.aborted) throw new ApiError(0, 'cancelled', null, 'aborted');
		throw new ApiError(res.status, `unreadable answer: ${e.message}`, null, 'network');
	} finally {
		d.done();
	}
}

/* ---- Products, product models, codecs ---- */

export const products = {
	list: ({ limit = 10, offset = 0 } = {}, signal) => call('GET', ['products'], { query: { limit, offset }, signal }),
	get: (id, signal) => call('GET', ['products', id], { signal }),
	create: (body) => call('POST', ['products'], { body }),
	update: (id, body) => call('PUT', ['products', id], { body }),
	remove: (id) => call('DELETE', ['products', id]),
};

// Codec uploads and tests of JavaScript wait for a codec thread; give them time.
const CODEC_TIMEOUT_MS = 30000;

export const codec = {
	get: (productId, signal) => call('GET', ['products', productId, 'codec'], { signal }),
	put: (productId, kind, source) =>
		call('PUT', ['products', productId, 'codec'], { body: { kind, source }, timeoutMs: CODEC_TIMEOUT_MS }),
	remove: (productId) => call('DELETE', ['products', productId, 'codec']),
	/* body: {payload_hex} or {cloud_req}, with kind and source to try an unsaved codec. */
	test: (productId, body) =>
		call('POST', ['products', productId, 'codec', 'test'], { body, timeoutMs: CODEC_TIMEOUT_MS }),
	examples: (productId, signal) => call('GET', ['products', productId, 'codec', 'examples'], { signal }),
	putExamples: (productId, examples) =>
		call('PUT', ['products', productId, 'codec', 'examples'], { body: { examples } }),
};

/* ---- Devices ---- */

export const devices = {
	/* filters: product_id, node_id (exact), node_id_prefix, name (prefix), status; limit; marker. */
	list: (filters = {}, signal) => call('GET', ['devices'], { query: filters, signal }),
	get: (id, signal) => call('GET', ['devices', id], { signal }),
	create: (body) => call('POST', ['devices'], { body }),
	update: (id, body) => call('PUT', ['devices', id], { body }),
	remove: (id) => call('DELETE', ['devices', id]),
	resetSecret: (id, secret) =>
		call('POST', ['devices', id, 'action'], {
			query: { action_id: 'resetSecret' },
			body: secret ? { secret } : {},
		}),
};

/* ---- Device management: calls held until the device answers ---- */

function dm(method, deviceId, path, { query = {}, body, timeout = 30, signal } = {}) {
	const segs = String(path).split('/').filter((x) => x !== '');
	return call(method, ['devices', deviceId, 'lwm2m', ...segs], {
		query: { ...query, timeout },
		body,
		signal,
		timeoutMs: timeout * 1000 + DEVICE_MARGIN_MS,
	});
}

export const lwm2m = {
	read: (dev, path, { format, timeout, signal } = {}) => dm('GET', dev, path, { query: { format }, timeout, signal }),
	discover: (dev, path, o = {}) => dm('GET', dev, path, { query: { op: 'discover' }, ...o }),
	observe: (dev, path, { format, timeout, signal } = {}) =>
		dm('GET', dev, path, { query: { op: 'observe', format }, timeout, signal }),
	/* values: [{path, type?, value}] */
	write: (dev, path, values, { format, timeout, signal } = {}) =>
		dm('PUT', dev, path, { body: format ? { format, values } : { values }, timeout, signal }),
	writeUpdate: (dev, path, values, o = {}) => dm('POST', dev, path, { body: { values }, ...o }),
	/* attrs: {pmin: '10', gt: null (clears), …}; only the given names are sent. */
	writeAttributes: (dev, path, attrs, o = {}) => dm('PUT', dev, path, { query: attrs, ...o }),
	execute: (dev, path, args, o = {}) =>
		dm('POST', dev, path, { body: args ? { arguments: args } : undefined, ...o }),
	create: (dev, objectPath, values, o = {}) => dm('POST', dev, objectPath, { body: { values }, ...o }),
	remove: (dev, path, o = {}) => dm('DELETE', dev, path, o),
	observations: (dev, signal) => call('GET', ['devices', dev, 'observations'], { signal }),
	cancel: (dev, observationId, { passive = false, timeout = 30 } = {}) =>
		call('DELETE', ['devices', dev, 'observations', observationId], {
			query: { mode: passive ? 'passive' : undefined, timeout: passive ? undefined : timeout },
			timeoutMs: timeout * 1000 + DEVICE_MARGIN_MS,
		}),
};

/* ---- Commands and shadow ---- */

export const commands = {
	list: (dev, { limit = 50, offset = 0 } = {}, signal) =>
		call('GET', ['devices', dev, 'async-commands'], { query: { limit, offset }, signal }),
	get: (dev, id, signal) => call('GET', ['devices', dev, 'async-commands', id], { signal }),
	create: (dev, body) => call('POST', ['devices', dev, 'async-commands'], { body }),
};

export const shadow = {
	get: (dev, signal) => call('GET', ['devices', dev, 'shadow'], { signal }),
	/* services: [{service_id, desired: {prop: value|null}, version?}] */
	put: (dev, services) => call('PUT', ['devices', dev, 'shadow'], { body: { shadow: services } }),
};

/* ---- The project's API tokens ---- */

export const tokens = {
	list: (signal) => call('GET', ['tokens'], { signal }),
	/* body: { name?, expires_in? (seconds) }; the answer's `token` is shown only now. */
	create: (body) => call('POST', ['tokens'], { body }),
	revoke: (id) => call('DELETE', ['tokens', id]),
};

/* ---- Firmware: packages and campaigns (docs/firmware.md) ---- */

// An upload of up to 64 MiB (the daemon's default --firmware-max-bytes) over a slow link
// takes its time; Cancel is always there.
const UPLOAD_TIMEOUT_MS = 600000;

export const firmware = {
	list: (productId, signal) => call('GET', ['firmware'], { query: { product_id: productId }, signal }),
	get: (id, signal) => call('GET', ['firmware', id], { signal }),
	/* meta: {product_id, version, description?}; file: a File (or any Blob). */
	upload: (meta, file, signal) =>
		call('POST', ['firmware'], { query: meta, raw: file, signal, timeoutMs: UPLOAD_TIMEOUT_MS }),
	remove: (id) => call('DELETE', ['firmware', id]),
};

export const campaigns = {
	list: (signal) => call('GET', ['firmware-campaigns'], { signal }),
	get: (id, signal) => call('GET', ['firmware-campaigns', id], { signal }),
	create: (body) => call('POST', ['firmware-campaigns'], { body }),
	/* query: state, marker, limit. Resolves to {devices, marker}. */
	devices: (id, query, signal) => call('GET', ['firmware-campaigns', id, 'devices'], { query, signal }),
	pause: (id) => call('POST', ['firmware-campaigns', id, 'pause']),
	resume: (id) => call('POST', ['firmware-campaigns', id, 'resume']),
	cancel: (id) => call('POST', ['firmware-campaigns', id, 'cancel']),
	remove: (id) => call('DELETE', ['firmware-campaigns', id]),
};

/* ---- Forwarding rules, object models, statistics ---- */

export const rules = {
	list: (signal) => call('GET', ['forwarding-rules'], { signal }),
	create: (body) => call('POST', ['forwarding-rules'], { body }),
	remove: (id) => call('DELETE', ['forwarding-rules', id]),
};

// Object models do not change while the daemon runs: fetched once per sign-in.
const modelCache = new Map();
let modelList = null;

export const models = {
	list: () => {
		if (!modelList)
			modelList = call('GET', ['models']).catch((e) => {
				modelList = null;
				throw e;
			});
		return modelList;
	},
	/* One object's model with its resources; null when the server does not know it. */
	get: (objectId) => {
		if (!modelCache.has(objectId))
			modelCache.set(
				objectId,
				call('GET', ['models', objectId]).catch((e) => {
					if (e.status === 404) return null;
					modelCache.delete(objectId);
					throw e;
				})
			);
		return modelCache.get(objectId);
	},
};

export const statistics = (signal) => call('GET', ['statistics'], { signal });

/* ---- The events stream ---- */

// No byte for this long (heartbeats come every 15 s by default): the stream is dead.
const STREAM_SILENCE_MS = 50000;

/*
 * Opens GET /v5/iot/{project}/events[?device_id=][&types=] and keeps it open: reconnects after
 * 1, 2, 4 … 30 s when it ends or fails, until close() or signal aborts. EventSource
 * cannot send the X-Auth-Token header, so this reads the stream with fetch and parses
 * Server-Sent Events itself.
 *
 * types: the kinds of event wanted (e.g. ['registration', 'deregistration']); all when absent.
 * onEvent({type, data, raw}) for each event (data parsed from JSON when it is JSON);
 * onState({state: 'connecting'|'open'|'retrying'|'stopped', error?, retryMs?}).
 */
export function events({ deviceId, types, onEvent, onState = () => {}, signal } = {}) {
	const ctrl = new AbortController();
	let closed = false;
	let backoff = 1000;
	let silence = null;
	const close = () => {
		closed = true;
		clearTimeout(silence);
		ctrl.abort();
	};
	if (signal) signal.addEventListener('abort', close, { once: true });

	const dispatch = (type, dataLines) => {
		const raw = dataLines.join('\n');
		let data = raw;
		try {
			data = JSON.parse(raw);
		} catch (e) {
			/* not JSON: kept as text */
		}
		try {
			onEvent({ type, data, raw });
		} catch (e) {
			console.warn('event handler failed', e); // eslint-disable-line no-console
		}
	};

	async function once() {
		const attempt = new AbortController();
		const stop = () => attempt.abort();
		ctrl.signal.addEventListener('abort', stop, { once: true });
		const watchdog = () => {
			clearTimeout(silence);
			silence = setTimeout(stop, STREAM_SILENCE_MS);
		};
		try {
			watchdog();
			const res = await fetch(projectUrl(['events'], { device_id: deviceId, types: types && types.join(',') }), {
				headers: { 'X-Auth-Token': token, Accept: 'text/event-stream' },
				signal: attempt.signal,
				cache: 'no-store',
			});
			if (!res.ok) {
				const err = await errorOf(res);
				if (res.status === 401) unauthorized(err);
				throw err;
			}
			onState({ state: 'open' });
			backoff = 1000;
			const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
			let buf = '';
			let type = '';
			let data = [];
			for (;;) {
				const { value, done } = await reader.read();
				if (done) break;
				watchdog();
				buf += value;
				let nl;
				while ((nl = buf.indexOf('\n')) >= 0) {
					let line = buf.slice(0, nl);
					buf = buf.slice(nl + 1);
					if (line.endsWith('\r')) line = line.slice(0, -1);
					if (line === '') {
						if (data.length) dispatch(type || 'message', data);
						type = '';
						data = [];
					} else if (line[0] === ':') {
						// a comment: the heartbeat
					} else {
						const colon = line.indexOf(':');
						const name = colon < 0 ? line : line.slice(0, colon);
						let val = colon < 0 ? '' : line.slice(colon + 1);
						if (val[0] === ' ') val = val.slice(1);
						if (name === 'event') type = val;
						else if (name === 'data') data.push(val);
					}
				}
			}
			return null;
		} catch (e) {
			if (e instanceof ApiError) return e;
			return new ApiError(0, 'the event stream was interrupted', null, 'network');
		} finally {
			clearTimeout(silence);
			ctrl.signal.removeEventListener('abort', stop);
		}
	}

	(async () => {
		while (!closed) {
			onState({ state: 'connecting' });
			const err = await once();
			if (closed) break;
			// 401: signed out; 404: the project or device is gone; 400: the daemon does not
			// know a type asked for (an older daemon). Nothing to wait for.
			if (err && (err.status === 400 || err.status === 401 || err.status === 404)) {
				onState({ state: 'stopped', error: err });
				return;
			}
			const retryMs = err && err.status === 429 ? Math.max(backoff, 10000) : backoff;
			onState({ state: 'retrying', error: err, retryMs });
			await new Promise((r) => setTimeout(r, retryMs));
			backoff = Math.min(backoff * 2, 30000);
		}
		onState({ state: 'stopped' });
	})();

	return { close };
}
