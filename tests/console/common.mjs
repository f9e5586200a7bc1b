/*
 * common: what the console tests' modules share — timeouts, the browser's binary and
 * flags, where artefacts go, and waiting (docs/console-tests.md). harness.mjs exports
 * all of it again: a test imports from there.
 */

import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/* Timeouts for a loaded 2-core machine running the ASan build; each can be scaled by
 * CONSOLE_TIMEOUT_SCALE (e.g. 2 on a slower machine). */
const scale = Number(process.env.CONSOLE_TIMEOUT_SCALE) || 1;
export const TIMEOUTS = Object.freeze({
	action: 15_000 * scale, // a click, a fill, waiting for text to show
	navigation: 30_000 * scale, // page.goto, a reload
	daemon: 30_000 * scale, // the daemon printing its ports; exiting after SIGTERM
	device: 30_000 * scale, // a simulated device registering, a status turning up
	browser: 60_000 * scale, // Chromium starting
	test: 180_000 * scale, // one test, as a whole
});

/* Debian's Chromium, never a downloaded one. Playwright gives every launch a fresh
 * temporary profile (--user-data-dir) and deletes it when the browser closes. The
 * background-networking flags keep Chromium from calling home: on a closed network those
 * connections are refused, and the refusals would slow and clutter every run. */
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const CHROMIUM_ARGS = Object.freeze([
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
]);

/* Screenshots and logs, kept after the run: $CONSOLE_ARTEFACTS (the Makefile sets
 * $BUILD/console-artefacts), else tests/console/artefacts. */
export const ARTEFACTS = path.resolve(
	process.env.CONSOLE_ARTEFACTS || path.join(here, 'artefacts'));

export function slug(s) {
	return String(s).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')
		.slice(0, 80) || 'x';
}

export function sleep(ms) {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/* Calls fn until it returns a truthy value (which is returned) or timeout ms pass; then
 * throws, with message and the last error fn threw. */
export async function waitUntil(fn, { timeout = TIMEOUTS.action, interval = 100, message } = {}) {
	const end = Date.now() + timeout;
	let lastError;
	for (;;) {
		try {
			const v = await fn();
			if (v)
				return v;
		} catch (e) {
			lastError = e;
		}
		if (Date.now() >= end) {
			const why = message || 'condition not met';
			throw new Error(`${why} within ${timeout} ms` +
				(lastError ? ` (last error: ${lastError.message})` : ''));
		}
		await sleep(interval);
	}
}
