/*
 * smoke: the ground the console's scenarios stand on. The console is served and loads
 * cleanly under its CSP, screenshots are kept, the harness notices what it must, the
 * daemon stops cleanly, and a simulated device registers (plain and DTLS).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';

import {
	consoleTests, expectVisible, newNodeId, PHONE, see, startDaemon, TIMEOUTS, waitUntil,
} from './harness.mjs';

const suite = consoleTests();

suite.test('the console loads at / (redirected to /console/) without a problem', async ({ page, daemon }) => {
	const res = await fetch(daemon.base + '/', { redirect: 'manual' });
	assert.equal(res.status, 302);
	assert.equal(res.headers.get('location'), '/console/');

	const nav = await page.goto('/');
	assert.equal(new URL(page.url()).pathname, '/console/');
	assert.equal(nav.status(), 200);
	/* What the console shows first is its pages' business: here, only that it shows. */
	await expectVisible(page.getByRole('heading').first());
	assert.match(await page.title(), /lwm2md/);
});

suite.test('the console has a strict CSP, and an injected inline script is blocked', async ({ page, cp }) => {
	const nav = await page.goto('/console/');
	const csp = nav.headers()['content-security-policy'];
	assert.ok(csp, 'no Content-Security-Policy header');
	assert.match(csp, /(^|; )script-src 'self'(;|$)/);
	assert.match(csp, /(^|; )style-src 'self'(;|$)/);
	assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);

	/* What an injection would do: add an inline script. DevTools' own evaluate is not
	 * bound by the page's CSP, but the script element it adds is. */
	await page.evaluate(() => {
		const s = document.createElement('script');
		s.textContent = 'window.__injectedRan = true;';
		document.body.append(s);
	});
	/* The page's own securitypolicyviolation event, not only Chrome's console line. */
	const violations = await cp.expectProblem('csp', (v) => /^script-src/.test(v.directive) && !v.console);
	assert.ok(violations.length >= 1);
	assert.equal(await page.evaluate(() => window.__injectedRan), undefined);

	/* An inline style too. */
	await page.evaluate(() => {
		const s = document.createElement('style');
		s.textContent = 'body { background: red; }';
		document.head.append(s);
	});
	const styles = await cp.expectProblem('csp', (v) => /^style-src/.test(v.directive) && !v.console);
	assert.ok(styles.length >= 1);
	/* Chrome's console lines about them, which are csp problems too. */
	assert.ok(cp.takeProblems('csp').every((v) => v.console));
});

suite.test('a screenshot is kept as an artefact', async ({ page, screenshot }) => {
	await page.goto('/console/');
	await see(page, /lwm2md/i);
	const file = await screenshot('home');
	const png = fs.readFileSync(file);
	assert.ok(png.length > 1000, `${file} is only ${png.length} bytes`);
	assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
});

suite.test('the page wrapper records console errors, page errors and failed requests', async ({ page, cp, daemon }) => {
	await page.goto('/console/');
	await page.evaluate(() => console.error('something broke'));
	await cp.expectProblem('console', (p) => p.text.includes('something broke'));

	await page.evaluate(() => setTimeout(() => { throw new Error('uncaught in the page'); }, 0));
	await cp.expectProblem('pageerror', (p) => p.text.includes('uncaught in the page'));

	/* An answer of the daemon the test did not declare, then one it did. */
	await page.evaluate(() => fetch('/console/no-such-file.js'));
	await cp.expectProblem('http', (p) => p.status === 404);
	cp.allowHttpError(404, '/console/no-such-file.js');
	await page.evaluate(() => fetch('/console/no-such-file.js'));

	/* A request the daemon does not answer: it is down for a moment. */
	await daemon.terminate();
	assert.equal(await page.evaluate(() => fetch('/health').then(() => 'answered', () => 'refused')), 'refused');
	await cp.expectProblem('requestfailed', (p) => p.url.endsWith('/health'));
	await daemon.start();
	await page.reload();
	await see(page, /lwm2md/i);

	/* A request to anywhere else: the CSP allows only 'self'. */
	assert.equal(await page.evaluate(() => fetch('http://127.0.0.1:9/').then(() => 'answered', () => 'refused')), 'refused');
	await cp.expectProblem('csp', (p) => /^connect-src/.test(p.directive) && !p.console);
	cp.takeProblems('csp');

	assert.throws(() => { cp.record({ kind: 'console', text: 'x' }); cp.assertNoProblems(); }, /1 problem/);
	cp.takeProblems(null);
	cp.assertNoProblems();
	assert.ok(daemon.running);
});

suite.test('the console fits a phone\'s width', { viewport: PHONE }, async ({ page, screenshot }) => {
	await page.goto('/console/');
	await expectVisible(page.getByRole('heading').first());
	assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= PHONE.width);
	await screenshot('phone');
});

suite.test('a device created through the API registers with lwm2m-sim and shows ONLINE', { ownDaemon: true }, async ({ api, sim, daemon }) => {
	await api.createProduct({ product_id: 'watermeter', name: 'Water meter' });
	const plain = await api.createDevice({ node_id: newNodeId(), product_id: 'watermeter' });
	assert.equal(plain.status, 'INACTIVE');
	const secure = await api.createDevice({
		node_id: newNodeId(), product_id: 'watermeter', auth_info: { secure_access: true },
	});
	assert.match(secure.auth_info.secret, /^[0-9a-f]{32}$/);

	await sim({ device: plain, meter: true });
	await sim({ device: secure });
	const a = await api.waitForDeviceStatus(plain.device_id, 'ONLINE');
	assert.equal(a.lwm2m.transport, 'udp');
	const b = await api.waitForDeviceStatus(secure.device_id, 'ONLINE');
	assert.equal(b.lwm2m.transport, 'dtls');
	/* The status filter reads the registry, which the daemon updates every 100 ms. */
	await waitUntil(async () => (await api.get('/devices?status=ONLINE')).page.count === 2,
		{ message: 'the list of ONLINE devices did not show both' });

	/* The API helper's errors carry the daemon's error_msg. */
	await assert.rejects(api.createDevice({ node_id: plain.node_id, product_id: 'watermeter' }),
		(e) => e.status === 409 && /already exists/.test(e.message) && e.errorCode === 'IOTDA.000409');
	assert.notEqual(daemon.base, suite.daemon.base);
});

test('the daemon stops cleanly on SIGTERM, and a daemon that does not is a failure', { timeout: TIMEOUTS.test }, async () => {
	const d = await startDaemon();
	try {
		assert.deepEqual(await d.api.get('/health'), { status: 'ok' });
		const { code } = await d.terminate();
		assert.equal(code, 0);
		await assert.rejects(fetch(d.base + '/health'));

		/* As an ASan report at exit would: the daemon aborts. */
		await d.start();
		assert.deepEqual(await d.api.get('/health'), { status: 'ok' });
		d.proc.kill('SIGABRT');
		await assert.rejects(d.terminate(), /exited with signal SIGABRT/);
	} finally {
		await d.kill();
	}
});
