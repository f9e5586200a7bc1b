/*
 * device-setup: what the device-side console tests (devices, device, fleet) share, on top
 * of walkthrough.mjs (signing in; the water meter of examples/watermeter/).
 *
 * - meterProduct(): the product, its model and the meter's JavaScript codec set up
 *   through the REST API (the products-side tests create them in the UI; here they are
 *   only the ground).
 * - createDevices(): many devices quickly, by parallel POSTs on kept-alive connections.
 * - simTree(): an object tree file for lwm2m-sim --tree.
 * - viewportShot(): a window-sized picture with a given part of the page in view.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

import { meter, signIn, viewShot } from './walkthrough.mjs';

export { signIn };

/* The product productId (binary data, the meter's model) with the meter's JavaScript
 * codec, through the API. Resolves to the product. */
export async function meterProduct(api, productId, name = 'Water meter') {
	const product = await api.createProduct({
		product_id: productId, name, data_format: 'binary', service_capabilities: meter.model,
	});
	await api.put(`/products/${productId}/codec`, { kind: 'js', source: meter.script });
	return product;
}

/* A SenML JSON object tree for lwm2m-sim --tree, in a temporary file (removed when the
 * process exits); resolves to its path. */
export function simTree(records) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2md-console-tree-'));
	const file = path.join(dir, 'tree.json');
	fs.writeFileSync(file, JSON.stringify(records));
	process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
	return file;
}

/* A random integer in [min, max]. */
export function randomInt(min, max) {
	return min + Math.floor(Math.random() * (max - min + 1));
}

/* Creates the devices (bodies as POST …/devices takes them) with concurrency parallel
 * POSTs on kept-alive connections: node's own http agent, which is several times faster
 * here than fetch. The API has no bulk route; a daemon commits what one loop turn wrote
 * as one transaction, so parallel creates share commits. Resolves when all are created;
 * rejects on the first answer that is not 201. */
export async function createDevices(daemon, bodies, { concurrency = 32 } = {}) {
	const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
	const url = new URL(daemon.api.url('/devices'));
	const post = (body) => new Promise((resolve, reject) => {
		const data = JSON.stringify(body);
		const req = http.request({
			agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST',
			headers: {
				'X-Auth-Token': daemon.token,
				'Content-Type': 'application/json',
				'Content-Length': Buffer.byteLength(data),
			},
		}, (res) => {
			let text = '';
			res.setEncoding('utf8');
			res.on('data', (c) => { text += c; });
			res.on('end', () => (res.statusCode === 201 ? resolve()
				: reject(new Error(`POST /devices ${body.node_id}: ${res.statusCode} ${text}`))));
		});
		req.on('error', reject);
		req.end(data);
	});
	let next = 0;
	const worker = async () => {
		while (next < bodies.length)
			await post(bodies[next++]);
	};
	try {
		await Promise.all(Array.from({ length: Math.min(concurrency, bodies.length) }, worker));
	} finally {
		agent.destroy();
	}
}

/* viewShot (a picture of the window, <file>-view-<what>.png), with locator's top at the
 * top of the window when given (its bottom at the bottom with block 'end'). */
export async function viewportShot(cp, what, locator, { block = 'start' } = {}) {
	if (locator) {
		await locator.evaluate((el, b) => {
			el.scrollIntoView({ block: b });
			window.scrollBy(0, b === 'start' ? -8 : 8);
		}, block);
	}
	return viewShot(cp.page, what);
}
