/*
 * harness: what every browser test of the console needs (docs/console-tests.md).
 *
 * It starts the real daemon ($LWM2MD_BIN) on free loopback ports with a fresh database,
 * creates an API token, plays devices with the project's simulator ($LWM2M_SIM_BIN), and
 * drives Debian's headless Chromium with playwright-core. Nothing is mocked: the console
 * the browser loads is the one embedded in the daemon, and it talks to the real API.
 *
 * A test fails on anything a person would call broken even when its own checks pass: a
 * console error, an uncaught exception in the page, a request that failed or that the
 * daemon answered with an error the test did not expect, a Content-Security-Policy
 * violation, a daemon that died or that does not exit 0 on SIGTERM (under ASan: a leak or
 * a sanitizer report). Every process it starts is ended when the test file ends, however
 * it ends.
 *
 * The usual shape of a test file:
 *
 *   import { consoleTests, see } from './harness.mjs';
 *   const suite = consoleTests();          // one daemon and one browser for the file
 *   suite.test('devices are listed', async ({ page, api, sim }) => {
 *     await api.createProduct({ product_id: 'meter' });
 *     const device = await api.createDevice({ node_id: 'n1', product_id: 'meter' });
 *     await sim({ device });                 // registers; stopped after the test
 *     await page.goto('/console/');
 *     await page.getByRole('link', { name: 'Devices' }).click();
 *     await see(page, 'ONLINE');
 *   });
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test as nodeTest } from 'node:test';

import { chromium } from 'playwright-core';

import { ARTEFACTS, CHROMIUM, CHROMIUM_ARGS, TIMEOUTS, slug, sleep, waitUntil } from './common.mjs';
import { Api } from './api-client.mjs';

export { ARTEFACTS, CHROMIUM, CHROMIUM_ARGS, TIMEOUTS, slug, sleep, waitUntil } from './common.mjs';
export { Api, ApiError } from './api-client.mjs';

/* The test file being run ("smoke" for smoke.test.mjs): the prefix of its artefacts. */
const fileSlug = slug(path.basename(process.argv[1] || 'console', '.mjs').replace(/\.test$/, ''));

function requireEnv(name) {
	const v = process.env[name];
	if (!v)
		throw new Error(`${name} is not set (run the tests through make test-console, ` +
			'or set it to a build directory\'s binary)');
	return v;
}

/* What the children run with: the Makefile's sanitizer options unless the caller set
 * others. A leak or a UBSan report makes an ASan build exit non-zero. */
function childEnv() {
	return {
		...process.env,
		ASAN_OPTIONS: process.env.ASAN_OPTIONS || 'detect_leaks=1:abort_on_error=1',
		UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || 'print_stacktrace=1:halt_on_error=1',
	};
}

/* ---- Every process, ended when this test file's process ends. ---- */

const children = new Set();
const browsers = new Set();
const tempDirs = new Set(); // the daemons' databases

function removeDir(dir) {
	fs.rmSync(dir, { recursive: true, force: true });
	tempDirs.delete(dir);
}

/* A child dies with this process even when it is SIGKILLed (a runner's timeout):
 * util-linux's setpriv sets its parent-death signal, then runs it. */
const SETPRIV = '/usr/bin/setpriv';
const haveSetpriv = fs.existsSync(SETPRIV);

function spawnChild(bin, args) {
	const child = haveSetpriv
		? spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() })
		: spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
	children.add(child);
	child.once('exit', () => children.delete(child));
	/* Its end once its output is all read too (an ASan report is written at exit). */
	child.closed = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
	return child;
}

function killAll() {
	for (const c of children) {
		try {
			c.kill('SIGKILL');
		} catch {
			/* already gone */
		}
	}
}

process.once('exit', () => {
	killAll();
	for (const dir of tempDirs)
		removeDir(dir);
});
for (const [sig, n] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
	process.once(sig, () => {
		killAll();
		/* Closing the browsers removes their temporary profiles; give it a moment. */
		const closing = [...browsers].map((b) => b.close().catch(() => {}));
		Promise.race([Promise.all(closing), sleep(3000)]).then(() => process.exit(128 + n));
	});
}

/* Resolves {code, signal} when child has exited and its output is read; SIGKILLs it and
 * rejects after timeout ms. */
function waitExit(child, timeout, what) {
	let timer;
	const timedOut = new Promise((_resolve, reject) => {
		timer = setTimeout(() => {
			child.kill('SIGKILL');
			reject(new Error(`${what} did not exit within ${timeout} ms (killed)`));
		}, timeout);
	});
	return Promise.race([child.closed, timedOut]).finally(() => clearTimeout(timer));
}

/* Output kept for failure messages: the last max characters. */
class Tail {
	constructor(max = 256 * 1024) {
		this.max = max;
		this.text = '';
	}

	add(chunk) {
		this.text += chunk;
		if (this.text.length > this.max)
			this.text = this.text.slice(this.text.length - this.max);
	}

	last(n = 6000) {
		return this.text.length > n ? '…' + this.text.slice(this.text.length - n) : this.text;
	}
}

function writeArtefact(name, text) {
	fs.mkdirSync(ARTEFACTS, { recursive: true });
	const file = path.join(ARTEFACTS, name);
	fs.writeFileSync(file, text);
	return file;
}

/* ---- The daemon ---- */

let daemonCount = 0;

export class Daemon {
	/* Use startDaemon(). */
	constructor({ bin, dir, db, project, token, args }) {
		this.bin = bin;
		this.dir = dir; // temporary directory holding the database
		this.db = db;
		this.project = project;
		this.token = token;
		this.args = args;
		this.n = ++daemonCount;
		this.proc = null;
		this.stderr = new Tail();
		this.http = this.coap = this.coaps = null; // "127.0.0.1:PORT" each
		this.base = null; // "http://127.0.0.1:PORT"
		this.api = null;
	}

	async spawn(binds = {}) {
		const argv = [
			'--db', this.db,
			'--http', binds.http || '127.0.0.1:0',
			'--coap', binds.coap || '127.0.0.1:0',
			'--coaps', binds.coaps || '127.0.0.1:0',
			'--push-allow-private',
			'--log-level', process.env.LWM2MD_LOG_LEVEL || 'warn',
			// A JavaScript codec's budget (100 ms by default) is wall-clock: an ASan daemon
			// beside a browser on a loaded 2-core machine took longer to load the meter's
			// codec, and the page then showed a codec error instead of the values. The
			// budget itself is tested in C (test_codec_isolation); here it only must not flake.
			'--codec-time-ms', '2000',
			...this.args,
		];
		const proc = spawnChild(this.bin, argv);
		this.proc = proc;
		proc.stderr.setEncoding('utf8');
		proc.stderr.on('data', (s) => this.stderr.add(s));
		proc.stdout.setEncoding('utf8');
		const ports = {};
		let buffered = '';
		await new Promise((resolve, reject) => {
			let timer = null;
			const fail = (why) => {
				clearTimeout(timer);
				proc.off('exit', onExit);
				proc.kill('SIGKILL');
				reject(new Error(`the daemon (${this.bin}) ${why}\n${this.stderr.last()}`));
			};
			const onExit = (code, signal) => fail(`exited (${signal || 'status ' + code}) before printing its ports`);
			const onData = (s) => {
				buffered += s;
				let nl;
				while ((nl = buffered.indexOf('\n')) >= 0) {
					const line = buffered.slice(0, nl);
					buffered = buffered.slice(nl + 1);
					const m = /^listening (http|coaps|coap) (\S+)$/.exec(line);
					if (m && !ports[m[1]])
						ports[m[1]] = m[2];
				}
				if (ports.http && ports.coap && ports.coaps) {
					clearTimeout(timer);
					proc.off('exit', onExit);
					proc.stdout.off('data', onData);
					proc.stdout.resume(); // drain the rest, so the daemon never blocks on it
					resolve();
				}
			};
			timer = setTimeout(() => fail(`did not print its ports within ${TIMEOUTS.daemon} ms`), TIMEOUTS.daemon);
			proc.once('exit', onExit);
			proc.stdout.on('data', onData);
		});
		this.http = ports.http;
		this.coap = ports.coap;
		this.coaps = ports.coaps;
		this.base = `http://${ports.http}`;
		this.api = new Api({ base: this.base, token: this.token, project: this.project });
	}

	/* A new API token for project (created when new), by `lwm2md token create` on this
	 * daemon's database while it runs, as an operator does. Resolves to the token. */
	async createToken(project) {
		const token = (await run(this.bin, ['token', 'create', '--db', this.db, '--project', project])).trim();
		assert.match(token, /^[0-9a-f]{64}$/, 'lwm2md token create printed no token');
		return token;
	}

	/* True while the daemon runs. */
	get running() {
		return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
	}

	/* Throws (with its stderr) when the daemon is no longer running. */
	assertRunning() {
		if (!this.running) {
			const p = this.proc;
			throw new Error(`the daemon died (${p ? p.signalCode || 'status ' + p.exitCode : 'never started'})\n` +
				this.stderr.last());
		}
	}

	/* SIGTERM, and wait; throws unless it exits 0 (under ASan a leak or a sanitizer report
	 * makes it non-zero) or when it takes longer than TIMEOUTS.daemon. Its stderr, when it
	 * printed anything, is kept as an artefact. Keeps the database (see restart()). */
	async terminate() {
		const proc = this.proc;
		if (!proc)
			return;
		if (this.running)
			proc.kill('SIGTERM');
		let result;
		try {
			result = await waitExit(proc, TIMEOUTS.daemon, 'the daemon');
		} finally {
			this.proc = null;
			if (this.stderr.text)
				writeArtefact(`${fileSlug}-daemon${this.n}.log`, this.stderr.text);
		}
		if (result.code !== 0) {
			throw new Error(`the daemon exited with ${result.signal ? 'signal ' + result.signal : 'status ' + result.code}` +
				` at its stop (a leak or a sanitizer report, under ASan)\n${this.stderr.last()}`);
		}
		return result;
	}

	/* Starts it again after terminate(), on the same database and the same ports (the
	 * console's origin, and with it what the browser stored, stays the same; devices find
	 * the server where they left it). */
	async start() {
		if (this.proc)
			throw new Error('the daemon is running');
		this.stderr = new Tail();
		this.n = ++daemonCount;
		await this.spawn({ http: this.http, coap: this.coap, coaps: this.coaps });
	}

	/* terminate(), then start(). */
	async restart() {
		await this.terminate();
		await this.start();
	}

	/* terminate() and remove the database. */
	async stop() {
		try {
			await this.terminate();
		} finally {
			removeDir(this.dir);
		}
	}

	/* SIGKILL without checks, and remove the database: for cleaning up after a failure. */
	async kill() {
		if (this.proc) {
			this.proc.kill('SIGKILL');
			await waitExit(this.proc, TIMEOUTS.daemon, 'the daemon').catch(() => {});
			this.proc = null;
		}
		removeDir(this.dir);
	}
}

function run(bin, args) {
	return new Promise((resolve, reject) => {
		execFile(bin, args, { env: childEnv(), timeout: TIMEOUTS.daemon }, (err, stdout, stderr) => {
			if (err)
				reject(new Error(`${bin} ${args.join(' ')}: ${err.message}\n${stderr}`));
			else
				resolve(stdout);
		});
	});
}

/* Starts $LWM2MD_BIN on a fresh database in a temporary directory, on free loopback
 * ports (HTTP, CoAP, CoAPS), with --push-allow-private, --log-level warn and a codec budget
 * of 2 s, plus args.
 * Resolves to a Daemon: base ("http://127.0.0.1:PORT"), http/coap/coaps ("host:port"),
 * token (for project, "default" as `make run` makes), api (an Api for it). */
export async function startDaemon({ project = 'default', args = [] } = {}) {
	const bin = path.resolve(requireEnv('LWM2MD_BIN'));
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lwm2md-console-'));
	tempDirs.add(dir);
	const db = path.join(dir, 'db.sqlite');
	try {
		const token = (await run(bin, ['token', 'create', '--db', db, '--project', project])).trim();
		assert.match(token, /^[0-9a-f]{64}$/, 'lwm2md token create printed no token');
		const d = new Daemon({ bin, dir, db, project, token, args });
		await d.spawn();
		return d;
	} catch (e) {
		removeDir(dir);
		throw e;
	}
}

/* ---- The simulated device ---- */

export class Sim {
	/* Use startSim(). */
	constructor(proc, label) {
		this.proc = proc;
		this.label = label;
		this.output = new Tail(); // stdout and stderr, as they came
	}

	get running() {
		return this.proc.exitCode === null && this.proc.signalCode === null;
	}

	/* Resolves to the first output line matching re (one already printed counts). */
	waitForLine(re, { timeout = TIMEOUTS.device } = {}) {
		return waitUntil(() => {
			const line = this.output.text.split('\n').find((l) => re.test(l));
			if (line !== undefined)
				return line;
			if (!this.running)
				throw new Error(`lwm2m-sim ${this.label} exited (${this.proc.signalCode || 'status ' + this.proc.exitCode})`);
			return undefined;
		}, { timeout, interval: 50, message: `lwm2m-sim ${this.label} printed no line matching ${re}` })
			.catch((e) => {
				throw new Error(`${e.message}\n${this.output.last()}`);
			});
	}

	/* SIGTERM and wait. Throws when it had ended by itself with a failure (a register
	 * refused, a crash, a sanitizer report). */
	async stop() {
		const ranOn = this.running;
		if (ranOn)
			this.proc.kill('SIGTERM');
		const { code, signal } = await waitExit(this.proc, TIMEOUTS.daemon, `lwm2m-sim ${this.label}`);
		if (!ranOn && code !== 0)
			throw new Error(`lwm2m-sim ${this.label} had exited with ${signal ? 'signal ' + signal : 'status ' + code}\n${this.output.last()}`);
	}
}

/* Starts $LWM2M_SIM_BIN as a device of daemon and waits until it has registered
 * ("registered rd/…"). The device is given as device (what Api.createDevice resolved
 * to: its node_id, and over DTLS when auth_info.secure_access, with auth_info.secret as
 * the PSK) or as nodeId and, for DTLS, psk (hex). It answers the server's requests for
 * serve seconds (--serve); meter plays a water meter (--meter, README "lwm2m-sim");
 * args are more of lwm2m-sim's flags. wait false: resolve at once. */
export async function startSim(daemon, { device, nodeId, psk, serve = 600, meter = false, args = [], wait = true } = {}) {
	const bin = path.resolve(requireEnv('LWM2M_SIM_BIN'));
	nodeId = nodeId || (device && device.node_id);
	if (!nodeId)
		throw new Error('startSim needs device or nodeId');
	if (psk === undefined && device && device.auth_info && device.auth_info.secure_access) {
		psk = device.auth_info.secret;
		if (!psk)
			throw new Error(`device ${nodeId} is secure_access but its secret is not known (pass psk)`);
	}
	const argv = psk
		? ['--server', daemon.coaps, '--psk-identity', nodeId, '--psk', psk]
		: ['--server', daemon.coap, '--ep', nodeId];
	argv.push('--serve', String(serve));
	if (meter)
		argv.push('--meter');
	argv.push(...args);
	const proc = spawnChild(bin, argv);
	const sim = new Sim(proc, `${nodeId}${psk ? ' (DTLS)' : ''}`);
	proc.stdout.setEncoding('utf8');
	proc.stderr.setEncoding('utf8');
	proc.stdout.on('data', (s) => sim.output.add(s));
	proc.stderr.on('data', (s) => sim.output.add(s));
	if (wait) {
		try {
			const line = await sim.waitForLine(/^(registered |failed )/);
			if (line.startsWith('failed'))
				throw new Error(`lwm2m-sim ${sim.label}: ${line}\n${sim.output.last()}`);
		} catch (e) {
			proc.kill('SIGKILL');
			throw e;
		}
	}
	return sim;
}

/* ---- The browser ---- */

/* Launches Debian's headless Chromium (one per test file; a fresh context per test). */
export async function launchBrowser() {
	const browser = await chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		args: [...CHROMIUM_ARGS],
		timeout: TIMEOUTS.browser,
	});
	browsers.add(browser);
	browser.once('disconnected', () => browsers.delete(browser));
	return browser;
}

/* Chrome's own console line for a failed load (an answer of 400 or more, a refused
 * connection): the response or the failure itself is judged (allowHttpError). */
const LOAD_FAILED = /^Failed to load resource: /;

/* A browser context and page on daemon's console that records every problem (see the
 * top of this file). Use openPage(). */
export class ConsolePage {
	constructor(context, page, daemon, name) {
		this.context = context;
		this.page = page; // the playwright-core Page: goto, getByRole, getByLabel, …
		this.daemon = daemon;
		this.name = name; // artefacts are named <file>-<name>-<what>.png
		this.problems = []; // {kind: console|pageerror|requestfailed|http|csp|crash, text, …}
		this.allowed = []; // {status, url} of error answers the test expects
	}

	record(problem) {
		this.problems.push(problem);
	}

	isDaemon(url) {
		return url.startsWith(this.daemon.base + '/');
	}

	/* Declares an answer of the daemon with status (a number or a list of them) to a URL
	 * matching url (a RegExp or a substring; any when absent) as expected, e.g. the 409 a
	 * test provokes to see the console show it. Not a problem then. */
	allowHttpError(status, url) {
		this.allowed.push({ status: [].concat(status), url });
	}

	isAllowed(status, url) {
		return this.allowed.some((a) => a.status.includes(status) &&
			(a.url === undefined || (a.url instanceof RegExp ? a.url.test(url) : url.includes(a.url))));
	}

	/* Removes and returns the problems of kind (a string, or any when null) for which
	 * match(problem) holds: for a test that provokes one on purpose. */
	takeProblems(kind, match = () => true) {
		const taken = [], kept = [];
		for (const p of this.problems)
			((kind == null || p.kind === kind) && match(p) ? taken : kept).push(p);
		this.problems = kept;
		return taken;
	}

	/* Waits until a problem of kind matching match has been recorded, and takes it (and
	 * every other one of that kind that matches). */
	async expectProblem(kind, match = () => true, { timeout = TIMEOUTS.action } = {}) {
		await waitUntil(() => this.problems.some((p) => p.kind === kind && match(p)),
			{ timeout, interval: 50, message: `no ${kind} problem was reported` });
		return this.takeProblems(kind, match);
	}

	/* Throws, listing them, when any problem was recorded or the daemon died. */
	assertNoProblems() {
		this.daemon.assertRunning();
		if (this.problems.length)
			throw new Error(`the console had ${this.problems.length} problem(s):\n` + formatProblems(this.problems));
	}

	/* A screenshot of the whole page, kept as <ARTEFACTS>/<file>-<test>-<what>.png;
	 * resolves to its path. */
	async screenshot(what) {
		fs.mkdirSync(ARTEFACTS, { recursive: true });
		const file = path.join(ARTEFACTS, `${fileSlug}-${slug(this.name)}-${slug(what)}.png`);
		await this.page.screenshot({ path: file, fullPage: true, timeout: TIMEOUTS.action });
		return file;
	}

	/* Closes the context. */
	async close() {
		await this.context.close().catch(() => {});
	}
}

function formatProblems(problems) {
	return problems.map((p) => `  [${p.kind}] ${p.text}`).join('\n');
}

/* A fresh context (no cookies, no storage) and page on browser, with daemon.base as the
 * base URL (page.goto('/') loads the console), default timeouts from TIMEOUTS, and every
 * problem recorded. name names its artefacts. viewport defaults to 1280×800 (the console
 * must also work at 390 px wide: { width: 390, height: 844 }). */
export async function openPage(browser, daemon, { name = 'page', viewport = { width: 1280, height: 800 }, contextOptions = {} } = {}) {
	const context = await browser.newContext({
		baseURL: daemon.base,
		viewport,
		locale: 'en-US',
		timezoneId: 'UTC',
		serviceWorkers: 'block',
		...contextOptions,
	});
	context.setDefaultTimeout(TIMEOUTS.action);
	context.setDefaultNavigationTimeout(TIMEOUTS.navigation);
	const page = await context.newPage();
	const cp = new ConsolePage(context, page, daemon, name);

	/* CSP violations, as the page's own securitypolicyviolation events (DevTools' init
	 * scripts and bindings are not subject to the page's CSP). */
	await context.exposeBinding('__lwm2mdTestCspViolation', (_source, v) => {
		cp.record({ kind: 'csp', text: `${v.directive} blocked ${v.blocked || '(inline)'} at ${v.source}:${v.line}` +
			(v.sample ? ` (${v.sample})` : ''), ...v });
	});
	await context.addInitScript(() => {
		document.addEventListener('securitypolicyviolation', (e) => {
			window.__lwm2mdTestCspViolation({
				directive: e.effectiveDirective || e.violatedDirective,
				blocked: e.blockedURI,
				source: e.sourceFile,
				line: e.lineNumber,
				sample: e.sample,
			});
		}, true);
	});

	page.on('console', (msg) => {
		if (msg.type() !== 'error')
			return;
		const text = msg.text();
		const where = msg.location() && msg.location().url || '';
		if (LOAD_FAILED.test(text) && (where === '' || cp.isDaemon(where)))
			return; // the response is judged on its own
		/* Chrome's lines for a CSP violation, besides the event above ("Executing inline
		 * script violates the following Content Security Policy directive 'script-src
		 * 'self''…"): csp problems too, their directive when the line names one. */
		if (/Content Security Policy/.test(text)) {
			const m = /directive:? ["']([a-z-]+)/.exec(text);
			cp.record({ kind: 'csp', text, directive: m ? m[1] : undefined, console: true });
			return;
		}
		cp.record({ kind: 'console', text: where ? `${text} (${where})` : text });
	});
	page.on('pageerror', (err) => cp.record({ kind: 'pageerror', text: err.stack || String(err) }));
	page.on('crash', () => cp.record({ kind: 'crash', text: 'the page crashed' }));
	page.on('requestfailed', (req) => {
		const why = req.failure() ? req.failure().errorText : 'failed';
		/* A request the page itself gave up (a navigation away, an AbortController, the
		 * event stream closed by a reload) is no failure of the daemon. */
		if (why === 'net::ERR_ABORTED')
			return;
		cp.record({ kind: 'requestfailed', text: `${req.method()} ${req.url()}: ${why}`, url: req.url() });
	});
	page.on('response', (res) => {
		const status = res.status();
		const url = res.url();
		if (status < 400 || !cp.isDaemon(url) || cp.isAllowed(status, url))
			return;
		cp.record({ kind: 'http', text: `${res.request().method()} ${url}: ${status}`, status, url });
	});
	return cp;
}

/* ---- Waiting as a person does ---- */

/* Waits until text (a string: a substring, case-insensitive; or a RegExp) is visible in
 * target (a Page or a Locator); resolves to the first visible element showing it. */
export async function see(target, text, { timeout = TIMEOUTS.action } = {}) {
	const loc = target.getByText(text).filter({ visible: true }).first();
	try {
		await loc.waitFor({ state: 'visible', timeout });
	} catch (e) {
		throw new Error(`"${text}" did not show within ${timeout} ms`, { cause: e });
	}
	return loc;
}

/* Waits until no element showing text is visible in target. */
export async function seeNo(target, text, { timeout = TIMEOUTS.action } = {}) {
	const loc = target.getByText(text).filter({ visible: true });
	await waitUntil(async () => (await loc.count()) === 0,
		{ timeout, message: `"${text}" still shows` });
}

/* Waits until locator is visible (e.g. page.getByRole('button', { name: 'Save' })). */
export async function expectVisible(locator, { timeout = TIMEOUTS.action } = {}) {
	await locator.waitFor({ state: 'visible', timeout });
	return locator;
}

/* Waits until locator's visible text matches text (a substring or a RegExp); resolves to
 * the text. */
export async function expectText(locator, text, { timeout = TIMEOUTS.action } = {}) {
	let last = '';
	return waitUntil(async () => {
		last = await locator.innerText({ timeout: Math.min(timeout, 1000) });
		return (text instanceof RegExp ? text.test(last) : last.includes(text)) && last;
	}, { timeout, message: `the text did not match ${text} (last: ${JSON.stringify(last.slice(0, 200))})` });
}

/* ---- A test file's set-up ---- */

/* A phone's viewport: the console must work at 390 px wide. */
export const PHONE = Object.freeze({ width: 390, height: 844 });

/* A fresh 15-digit node ID (an IMEI's shape), unique in this test run: node IDs are
 * unique across a daemon's projects, and tests of one file share a daemon. */
let idCount = 0;
export function newNodeId() {
	idCount += 1;
	return `86${String(process.pid % 100000).padStart(5, '0')}${String(idCount).padStart(8, '0')}`;
}

/* Registers node:test hooks that start one daemon and one browser for the test file
 * (before) and end them (after: the browser closed, the daemon stopped with its exit
 * status checked; a failure there fails the file). Options: project, daemonArgs (more
 * of the daemon's flags), viewport.
 *
 * Returns suite: suite.daemon, suite.browser, suite.api once started, and
 * suite.test(name, [options,] fn): a node:test test that gets a fresh context and page
 * and calls fn({ page, cp, daemon, api, sim, screenshot, t }):
 *   page        the playwright-core Page, its base URL the daemon's
 *   cp          the ConsolePage (allowHttpError, takeProblems, expectProblem, screenshot…)
 *   daemon, api the file's daemon and its Api (or the test's own, see ownDaemon)
 *   sim(opts)   startSim(daemon, opts), stopped when the test ends
 *   screenshot(what)  cp.screenshot(what)
 *   t           node:test's TestContext
 * When fn returns, the test fails on any problem the page had; when fn throws, a
 * screenshot <file>-<test>-failure.png is kept and the page's problems are added to the
 * error. options are node:test's (timeout defaults to TIMEOUTS.test), plus viewport
 * (e.g. PHONE), ownDaemon (true: a daemon of its own, on an empty database, stopped and
 * checked when the test ends) and daemonArgs (for that daemon). */
export function consoleTests({ project, daemonArgs = [], viewport } = {}) {
	const suite = { daemon: null, browser: null, api: null };
	before(async () => {
		suite.browser = await launchBrowser();
		suite.daemon = await startDaemon({ project, args: daemonArgs });
		suite.api = suite.daemon.api;
	}, { timeout: TIMEOUTS.browser + TIMEOUTS.daemon * 2 });
	after(async () => {
		if (suite.browser)
			await suite.browser.close().catch(() => {});
		if (suite.daemon)
			await suite.daemon.stop();
	}, { timeout: TIMEOUTS.daemon * 2 });

	suite.test = (name, options, fn) => {
		if (typeof options === 'function') {
			fn = options;
			options = {};
		}
		const { viewport: vp, ownDaemon = false, daemonArgs: ownArgs = [], ...testOptions } = options;
		return nodeTest(name, { timeout: TIMEOUTS.test, ...testOptions }, async (t) => {
			if (!suite.daemon || !suite.browser)
				throw new Error('the daemon or the browser did not start (see the before hook)');
			suite.daemon.assertRunning();
			const daemon = ownDaemon ? await startDaemon({ project, args: [...daemonArgs, ...ownArgs] }) : suite.daemon;
			let cp = null;
			const sims = [];
			const sim = async (opts) => {
				const s = await startSim(daemon, opts);
				sims.push(s);
				return s;
			};
			let failure = null;
			try {
				cp = await openPage(suite.browser, daemon, { name, viewport: vp || viewport });
				await fn({ page: cp.page, cp, daemon, api: daemon.api, sim,
					screenshot: (what) => cp.screenshot(what), t });
				cp.assertNoProblems();
			} catch (e) {
				failure = e;
				if (cp) {
					try {
						const file = await cp.screenshot('failure');
						e.message += `\n(screenshot: ${file})`;
					} catch {
						/* the page may be gone */
					}
					if (cp.problems.length)
						e.message += `\nthe console's problems:\n${formatProblems(cp.problems)}`;
				}
			} finally {
				if (cp)
					await cp.close();
				for (const s of sims) {
					try {
						await s.stop();
					} catch (e) {
						failure = failure || e;
					}
				}
				if (ownDaemon) {
					try {
						await daemon.stop();
					} catch (e) {
						failure = failure || e;
					}
				}
			}
			if (failure)
				throw failure;
		});
	};
	return suite;
}
