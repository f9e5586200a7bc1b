/*
 * console_browser: the browser half of bench/console.sh. Debian's headless Chromium driven
 * by playwright-core (tests/console's, installed there with npm ci; nothing added), against
 * a daemon the script started. Every timing is taken inside the page
 * (performance.now(), the wait polled on each DOM mutation), so the driver's round trips
 * do not count in it. It prints one line of key=value pairs per measure.
 *
 *   node bench/console_browser.mjs load  --base URL --token T [--project P] [--runs R]
 *        [--prefix NODE_ID_PREFIX] [--label TEXT]
 *     A signed-in tab, R times each (the first load is a cold cache, the others revalidate
 *     the console's files with If-None-Match, as a reload does):
 *       what=load   a full load of /console/#/devices, navigation start -> first row
 *       what=nav    from the overview, location.hash = #/devices -> first row
 *       what=search on the devices page, Search with "Node ID starts with" PREFIX ->
 *                   the first row of the answer
 *     and once, what=files: the console files the first load fetched, and their bytes.
 *
 *   node bench/console_browser.mjs hold  --base URL --token T [--project P] --pid PID
 *        [--pages overview,devices,…] [--seconds S] [--label TEXT]
 *     Opens one signed-in console (a browser context of its own) per page named, waits
 *     until each holds its events stream, then samples the daemon (PID) every second for S
 *     seconds: its VmRSS and the CPU time of all its threads (schedstat); and per console
 *     the bytes its events stream received (DevTools protocol) and its JS heap. With no
 *     pages it measures the daemon alone, the same way.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'tests', 'console', 'package.json'));
const { chromium } = require('playwright-core');

/* As tests/console/harness.mjs launches it (docs/console-tests.md). */
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
	'--no-first-run', '--disable-background-networking', '--disable-component-update',
	'--disable-sync'];

const ROW = '.page-devices table.paged tbody tr a[href^="#/devices/"]';

function options(argv) {
	const o = { project: 'default', runs: 7, prefix: 'bench0005', seconds: 60, pages: '', label: '' };
	for (let i = 0; i < argv.length; i += 2) {
		const k = argv[i].replace(/^--/, '');
		if (!(k in o) && !['base', 'token', 'pid'].includes(k)) throw new Error(`unknown option ${argv[i]}`);
		o[k] = argv[i + 1];
	}
	if (!o.base || !o.token) throw new Error('--base and --token are needed');
	o.runs = Number(o.runs);
	o.seconds = Number(o.seconds);
	return o;
}

function stats(list) {
	const s = [...list].sort((a, b) => a - b);
	const med = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
	return `runs=${s.length} median_ms=${med.toFixed(1)} max_ms=${s[s.length - 1].toFixed(1)}` +
		` min_ms=${s[0].toFixed(1)} all_ms=${list.map((x) => x.toFixed(0)).join(',')}`;
}

/* A console signed in as a person does it: the sign-in form, then the overview. */
async function signedIn(browser, o, { watch = false } = {}) {
	const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
	const page = await context.newPage();
	page.setDefaultTimeout(60_000);
	const errors = [];
	page.on('pageerror', (e) => errors.push(String(e)));
	// For hold: the bytes of the page's events streams, counted from before the first one.
	let cdp = null;
	const counter = { bytes: 0 };
	if (watch) {
		cdp = await context.newCDPSession(page);
		const streams = new Set();
		cdp.on('Network.requestWillBeSent', (e) => {
			if (/\/events(\?|$)/.test(e.request.url)) streams.add(e.requestId);
		});
		cdp.on('Network.dataReceived', (e) => {
			if (streams.has(e.requestId)) counter.bytes += e.dataLength;
		});
		await cdp.send('Network.enable');
		await cdp.send('Performance.enable');
	}
	await page.goto(`${o.base}/console/`);
	await page.getByLabel('API token').fill(o.token);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
	return { context, page, errors, cdp, counter };
}

/* Milliseconds until `selector` first matches (an element whose text starts with `pre`,
 * when given), watched by a MutationObserver in the page: from the page's navigation start,
 * or, with an action ('nav': to #/devices; 'search': the search form's Search button),
 * from the moment the page itself starts it, after the observer is in place. */
async function firstMatch(page, selector, pre = '', action = null) {
	return page.evaluate(([sel, prefix, act]) => new Promise((resolve, reject) => {
		const found = () => [...document.querySelectorAll(sel)].some((a) => !prefix || a.textContent.startsWith(prefix));
		let t0 = 0;
		const mo = new MutationObserver(() => {
			if (found()) {
				mo.disconnect();
				resolve(performance.now() - t0);
			}
		});
		mo.observe(document, { childList: true, subtree: true, characterData: true });
		setTimeout(() => {
			mo.disconnect();
			reject(new Error(`no ${sel} within 60 s`));
		}, 60_000);
		if (act) t0 = performance.now();
		if (act === 'nav') location.hash = '#/devices';
		else if (act === 'search') document.querySelector('form[role="search"] button[type="submit"]').click();
		else if (found()) {
			mo.disconnect();
			resolve(performance.now());
		}
	}), [selector, pre, action]);
}

async function load(browser, o) {
	const { context, page, errors } = await signedIn(browser, o);
	const files = new Map();
	page.on('response', async (r) => {
		const u = new URL(r.url());
		if (!u.pathname.startsWith('/console/')) return;
		const len = Number((await r.allHeaders())['content-length'] || 0);
		files.set(u.pathname, { status: r.status(), bytes: len });
	});
	const loads = [];
	const navs = [];
	const searches = [];
	let firstFiles = null;
	for (let i = 0; i < o.runs; i++) {
		// A full load: the tab keeps its sessionStorage (the sign-in) across navigations.
		await page.goto('about:blank');
		if (i === 0) {
			// The first load with an empty cache: what a first visit fetches.
			await context.clearCookies();
			const cdp = await context.newCDPSession(page);
			await cdp.send('Network.clearBrowserCache');
			await cdp.detach();
			files.clear();
		}
		await page.goto(`${o.base}/console/#/devices`, { waitUntil: 'commit' });
		loads.push(await firstMatch(page, ROW));
		if (i === 0) {
			// (The page holds its events stream open: it never goes network-idle.)
			await page.waitForTimeout(1500);
			firstFiles = [...files.values()];
		}
		// In-app navigation, from the overview.
		await page.evaluate(() => { location.hash = '#/'; });
		await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
		navs.push(await firstMatch(page, ROW, '', 'nav'));
		// A search by node ID prefix, from the page just shown.
		await page.getByLabel('Node ID starts with').fill(o.prefix);
		searches.push(await firstMatch(page, ROW, o.prefix, 'search'));
	}
	const l = o.label ? `${o.label} ` : '';
	console.log(`${l}what=load ${stats(loads)}`);
	console.log(`${l}what=nav ${stats(navs)}`);
	console.log(`${l}what=search prefix=${o.prefix} ${stats(searches)}`);
	const bytes = firstFiles.reduce((a, f) => a + f.bytes, 0);
	console.log(`${l}what=files first_load_files=${firstFiles.length} first_load_bytes=${bytes}` +
		` statuses=${[...new Set(firstFiles.map((f) => f.status))].join(',')}`);
	if (errors.length) console.log(`${l}what=page_errors ${JSON.stringify(errors.slice(0, 3))}`);
	await context.close();
}

/* The daemon's VmRSS (kB) and its threads' CPU time (ns) so far. */
function daemonNow(pid) {
	const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
	let cpu = 0;
	for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
		try {
			cpu += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
		} catch { /* a thread that ended */ }
	}
	return { rss, cpu, t: process.hrtime.bigint() };
}

async function hold(browser, o) {
	const names = o.pages ? o.pages.split(',') : [];
	const consoles = [];
	for (const name of names) {
		const c = await signedIn(browser, o, { watch: true });
		c.name = name;
		if (name !== 'overview') await c.page.evaluate((n) => { location.hash = `#/${n}`; }, name);
		// The page holds its stream once its state says so ("live", "statuses live").
		await c.page.locator(`.page-${name} .stream-state.s-open`).first().waitFor();
		consoles.push(c);
	}
	await new Promise((r) => setTimeout(r, 2000)); // the pages' first loads settle
	const metrics = async (c) => Object.fromEntries((await c.cdp.send('Performance.getMetrics')).metrics.map((x) => [x.name, x.value]));
	const b0 = consoles.map((c) => c.counter.bytes);
	const m0 = await Promise.all(consoles.map(metrics));
	const first = daemonNow(o.pid);
	let maxRss = first.rss;
	for (let s = 0; s < o.seconds; s++) {
		await new Promise((r) => setTimeout(r, 1000));
		maxRss = Math.max(maxRss, daemonNow(o.pid).rss);
	}
	const last = daemonNow(o.pid);
	const secs = Number(last.t - first.t) / 1e9;
	const cpuMsPerS = (last.cpu - first.cpu) / 1e6 / secs;
	// Per console: its JS heap at the end, and the time its renderer's main thread was
	// busy (DevTools' TaskDuration) per second of the window.
	const m1 = await Promise.all(consoles.map(metrics));
	const heaps = m1.map((m) => (m.JSHeapUsedSize / 1048576).toFixed(1));
	const busy = m1.map((m, i) => ((m.TaskDuration - m0[i].TaskDuration) * 1000 / secs).toFixed(0));
	const streamKBs = consoles.map((c, i) => ((c.counter.bytes - b0[i]) / 1024 / secs).toFixed(1));
	const l = o.label ? `${o.label} ` : '';
	console.log(`${l}what=hold consoles=${consoles.length} pages=${names.join(',') || '-'}` +
		` seconds=${secs.toFixed(1)} rss_start_kb=${first.rss} rss_end_kb=${last.rss} rss_max_kb=${maxRss}` +
		` cpu_ms_per_s=${cpuMsPerS.toFixed(1)} stream_kb_per_s=${streamKBs.join(',') || '-'}` +
		` page_js_heap_mb=${heaps.join(',') || '-'} page_busy_ms_per_s=${busy.join(',') || '-'}` +
		` page_errors=${consoles.reduce((a, c) => a + c.errors.length, 0)}`);
	for (const c of consoles) await c.context.close();
}

const [mode, ...rest] = process.argv.slice(2);
const o = options(rest);
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 120_000 });
try {
	if (mode === 'load') await load(browser, o);
	else if (mode === 'hold') await hold(browser, o);
	else throw new Error(`unknown mode ${mode}: load or hold`);
} finally {
	await browser.close();
}
