/*
 * device-setup: what the device-side console tests (devices, device, fleet) share.
 *
 * - The water meter of the platform's own tests (tests/integration/meter_fixture.h): its
 *   model and its JavaScript codec, read from that header, so that the console is tested
 *   with the codec the integration tests and `lwm2m-sim --meter` agree on, not a copy.
 * - meterProduct(): the product, its model and codec set up through the REST API (the
 *   products-side tests create them in the UI; here they are only the ground).
 * - signIn(): signing in as a person does.
 * - createDevices(): many devices quickly, by parallel POSTs on kept-alive connections.
 * - viewportShot(): a screenshot of what the window shows (the harness's are of the whole
 *   page), for the pictures in docs/console/.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ARTEFACTS, expectVisible, slug, TIMEOUTS } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE = path.join(here, '..', 'integration', 'meter_fixture.h');

/* The value of `static const char name[] = "…" "…";` in a C header: its string literals
 * joined, with C's escapes undone (the fixture uses \" \\ \n only). */
function cString(header, name) {
	const m = new RegExp(`static const char ${name}\\[\\] =([\\s\\S]*?);\\n`).exec(header);
	if (!m)
		throw new Error(`${FIXTURE} has no ${name}`);
	let out = '';
	for (const lit of m[1].matchAll(/"((?:\\.|[^"\\])*)"/g))
		out += lit[1].replace(/\\(.)/g, (_, c) => ({ n: '\n', t: '\t', '"': '"', '\\': '\\' })[c] ?? c);
	return out;
}

const header = fs.readFileSync(FIXTURE, 'utf8');

/* The meter: model (service_capabilities), script (its JavaScript codec). */
export const meter = Object.freeze({
	model: JSON.parse(cString(header, 'meter_model')),
	script: cString(header, 'meter_script'),
});

/* The product productId (binary data, the meter's model) with the meter's JavaScript
 * codec, through the API. Resolves to the product. */
export async function meterProduct(api, productId, name = 'Water meter') {
	const product = await api.createProduct({
		product_id: productId, name, data_format: 'binary', service_capabilities: meter.model,
	});
	await api.put(`/products/${productId}/codec`, { kind: 'js', source: meter.script });
	return product;
}

/* Opens the console at hash (e.g. '#/devices') and signs in with the daemon's token, as a
 * person pastes it; resolves once the main navigation shows. */
export async function signIn(page, daemon, hash = '') {
	await page.goto(`/console/${hash}`);
	await page.getByLabel('API token').fill(daemon.token);
	await page.getByLabel('Project').fill(daemon.project);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expectVisible(page.getByRole('navigation', { name: 'Main' }));
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

/* The test file being run, as the harness names its artefacts. */
const fileSlug = slug(path.basename(process.argv[1] || 'console', '.mjs').replace(/\.test$/, ''));

/* A screenshot of the window only (not the whole page), with locator's top at the top of
 * the window when given (its bottom at the bottom with block 'end'):
 * <ARTEFACTS>/<file>-<test>-<what>-view.png. Resolves to its path. */
export async function viewportShot(cp, what, locator, { block = 'start' } = {}) {
	if (locator) {
		await locator.evaluate((el, b) => {
			el.scrollIntoView({ block: b });
			window.scrollBy(0, b === 'start' ? -8 : 8);
		}, block);
	}
	fs.mkdirSync(ARTEFACTS, { recursive: true });
	const file = path.join(ARTEFACTS, `${fileSlug}-${slug(cp.name)}-${slug(what)}-view.png`);
	await cp.page.screenshot({ path: file, timeout: TIMEOUTS.action });
	return file;
}
