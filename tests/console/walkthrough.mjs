/*
 * walkthrough: what the products-side console tests share — signing in as a person does,
 * and the water meter of the README's walk-through (examples/watermeter/): its model, its
 * declarative layout and its JavaScript codec, read from those files — the same ones the
 * integration tests (through meter_fixture.h, generated from them) and the README use —
 * so that the console is tested with the codec they and lwm2m-sim --meter agree on, not
 * with a copy that could drift.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ARTEFACTS, expectVisible, slug, TIMEOUTS } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const EXAMPLE = path.join(here, '..', '..', 'examples', 'watermeter');

function exampleFile(name) {
	return fs.readFileSync(path.join(EXAMPLE, name), 'utf8');
}

/* The meter: model (service_capabilities, as an array), layout (declarative, JSON text),
 * script (JavaScript source). */
export const meter = Object.freeze({
	model: JSON.parse(exampleFile('model.json')).service_capabilities,
	layout: exampleFile('layout.json'),
	script: exampleFile('codec.js'),
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
