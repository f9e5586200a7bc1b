/*
 * walkthrough: what the products-side console tests share — signing in as a person does,
 * and the water meter of the platform's own tests (tests/integration/meter_fixture.h):
 * its model, its declarative layout and its JavaScript codec, read from that header so
 * that the console is tested with the codec the integration tests and lwm2m-sim --meter
 * agree on, not with a copy that could drift.
 */
import fs from 'node:fs';
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

/* The meter: model (service_capabilities, as an array), layout (declarative, JSON text),
 * script (JavaScript source). */
export const meter = Object.freeze({
	model: JSON.parse(cString(header, 'meter_model')),
	layout: cString(header, 'meter_layout'),
	script: cString(header, 'meter_script'),
});

/* What the meter sends on /19/0/0 for a report: [0, battery %, flow in litres as a
 * big-endian uint32], as hex. */
export function meterReportHex(battery, flow) {
	const b = Buffer.alloc(6);
	b.writeUInt8(0, 0);
	b.writeUInt8(battery, 1);
	b.writeUInt32BE(flow, 2);
	return b.toString('hex').toUpperCase();
}

/* What SET_INTERVAL becomes on /19/1/0: [1, mid u16, interval u16], as hex. */
export function setIntervalHex(mid, interval) {
	const b = Buffer.alloc(5);
	b.writeUInt8(1, 0);
	b.writeUInt16BE(mid, 1);
	b.writeUInt16BE(interval, 3);
	return b.toString('hex').toUpperCase();
}

/* Opens the console at hash (e.g. '#/products') and signs in with the daemon's token,
 * as a person pastes it; resolves once the main navigation shows. */
export async function signIn(page, daemon, hash = '') {
	await page.goto(`/console/${hash}`);
	await page.getByLabel('API token').fill(daemon.token);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expectVisible(page.getByRole('navigation', { name: 'Main' }));
}

/* A screenshot of what the viewport shows (not the whole page, as the harness's are): the
 * pictures for docs/console.md, kept as <ARTEFACTS>/<file>-view-<what>.png. Resolves to
 * the path. */
export async function viewShot(page, what) {
	const file = slug(path.basename(process.argv[1] || 'console', '.mjs').replace(/\.test$/, ''));
	fs.mkdirSync(ARTEFACTS, { recursive: true });
	const out = path.join(ARTEFACTS, `${file}-view-${slug(what)}.png`);
	await page.screenshot({ path: out, timeout: TIMEOUTS.action });
	return out;
}
