/*
 * api-client: the daemon's REST API as a test calls it (docs/console-tests.md), with the
 * daemon's token. harness.mjs exports it again: a test imports from there.
 */

import { TIMEOUTS, waitUntil } from './common.mjs';

export class ApiError extends Error {
	constructor(method, url, status, body) {
		const msg = body && typeof body === 'object' && body.error_msg ? body.error_msg : String(body).slice(0, 300);
		super(`${method} ${url}: ${status} ${msg}`);
		this.status = status;
		this.body = body;
		this.errorMsg = body && body.error_msg;
		this.errorCode = body && body.error_code;
	}
}

/* The daemon's REST API, with its token. Paths starting with "/v5/", "/health" or
 * "/metrics" are the daemon's own; any other is under /v5/iot/{project}. */
export class Api {
	constructor({ base, token, project }) {
		this.base = base;
		this.token = token;
		this.project = project;
	}

	url(p) {
		return this.base + (/^\/(v5\/|health|metrics)/.test(p) ? p : `/v5/iot/${this.project}${p}`);
	}

	/* One call; resolves to the parsed JSON answer (null for an empty one). An answer of
	 * 400 or above throws an ApiError (status, errorCode, errorMsg). */
	async request(method, p, body, { token = this.token, timeout = TIMEOUTS.device } = {}) {
		const url = this.url(p);
		const headers = {};
		if (token)
			headers['X-Auth-Token'] = token;
		if (body !== undefined)
			headers['Content-Type'] = 'application/json';
		const res = await fetch(url, {
			method,
			headers,
			body: body === undefined ? undefined : JSON.stringify(body),
			redirect: 'manual',
			signal: AbortSignal.timeout(timeout),
		});
		const text = await res.text();
		let json = null;
		if (text) {
			try {
				json = JSON.parse(text);
			} catch {
				json = text;
			}
		}
		if (res.status >= 400)
			throw new ApiError(method, p, res.status, json);
		return json;
	}

	get(p, opts) { return this.request('GET', p, undefined, opts); }
	post(p, body, opts) { return this.request('POST', p, body === undefined ? {} : body, opts); }
	put(p, body, opts) { return this.request('PUT', p, body, opts); }
	delete(p, opts) { return this.request('DELETE', p, undefined, opts); }

	/* POST /products; name defaults to the product_id, product_id to "watermeter". */
	createProduct(fields = {}) {
		const product_id = fields.product_id || 'watermeter';
		return this.post('/products', { name: product_id, data_format: 'binary', ...fields, product_id });
	}

	/* POST /devices: fields as the API takes them (node_id, product_id, auth_info…).
	 * Resolves to the created device, secret included. */
	createDevice(fields) {
		return this.post('/devices', fields);
	}

	getDevice(deviceId) {
		return this.get(`/devices/${encodeURIComponent(deviceId)}`);
	}

	/* Polls the device until its status is status (ONLINE, OFFLINE, INACTIVE); resolves
	 * to the device. */
	async waitForDeviceStatus(deviceId, status = 'ONLINE', { timeout = TIMEOUTS.device } = {}) {
		let last;
		return waitUntil(async () => {
			last = await this.getDevice(deviceId);
			return last.status === status && last;
		}, { timeout, interval: 200, message: `device ${deviceId} did not become ${status} (last: ${last && last.status})` });
	}
}
