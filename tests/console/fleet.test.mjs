/*
 * fleet: the device list over 10 050 devices. It pages forward and back by the API's
 * markers; node ID prefix, name prefix, product and status filters show the right rows
 * and the right count; a search whose page is short (or empty) but has more to come says
 * so and pages on.
 *
 * The devices are made through the API in the file's set-up (parallel POSTs on kept-alive
 * connections: a few seconds), on the file's own daemon, so every count is known: 10 000
 * of product fleetA and 50 of fleetB, whose node IDs all come after fleetA's.
 */
import assert from 'node:assert/strict';

import { consoleTests, expectText, expectVisible, PHONE, see, waitUntil } from './harness.mjs';
import { createDevices, signIn, viewportShot } from './device-setup.mjs';

const suite = consoleTests();

const A = 10000, B = 50, TOTAL = A + B;
const P = `fl${process.pid % 1000}x`; // every node ID: P + 5 digits
const pad = (i) => String(i).padStart(5, '0');
/* 37 devices are called "Cellar …"; the rest "Meter …". */
const isCellar = (i) => i >= 500 && i < 537;
const devices = Array.from({ length: TOTAL }, (_, i) => ({
	node_id: `${P}${pad(i)}`,
	product_id: i < A ? 'fleetA' : 'fleetB',
	device_name: `${isCellar(i) ? 'Cellar' : 'Meter'} ${pad(i)}`,
}));
const ONLINE_I = 3, OFFLINE_I = 7;

/* The fleet, made once by the first test that needs it (the file's hooks run in no
 * set order with the harness's, which starts the daemon). */
let made = null;
function fleet(api, daemon) {
	made = made || (async () => {
		await api.createProduct({ product_id: 'fleetA', name: 'Fleet A' });
		await api.createProduct({ product_id: 'fleetB', name: 'Fleet B' });
		const t0 = Date.now();
		await createDevices(daemon, devices);
		process.stderr.write(`# created ${TOTAL} devices in ${Date.now() - t0} ms\n`);
	})();
	return made;
}

/* The list's parts: its table, the pager's status, the node IDs shown. */
function list(page) {
	const region = page.getByRole('region', { name: 'Device list' });
	return {
		region,
		status: region.getByRole('status').filter({ hasText: /^(Page |No items|Loading)/ }),
		next: region.getByRole('button', { name: 'Next page' }),
		prev: region.getByRole('button', { name: 'Previous page' }),
		nodeIds: () => region.locator('tbody tr > td[data-label="Node ID"]').allInnerTexts(),
	};
}

/* Waits until the pager says text (e.g. "Page 2 · 21–40 of 10,050"); resolves to the
 * node IDs then shown. */
async function shows(l, text) {
	await expectText(l.status, text);
	return l.nodeIds();
}

const n = (x) => x.toLocaleString('en');
const ids = (from, to) => devices.slice(from, to).map((d) => d.node_id);

suite.test('10 050 devices page forward and back by marker, with the right count', async ({ page, cp, api, daemon, screenshot }) => {
	await fleet(api, daemon);
	await signIn(page, daemon, '#/devices');
	const l = list(page);
	/* Devices come oldest first: the API's order, its first pages followed by marker. */
	const expected = [];
	let marker;
	for (let i = 0; i < 4; i++) {
		const res = await api.get(`/devices?limit=20${marker ? `&marker=${marker}` : ''}`);
		expected.push(res.devices.map((d) => d.node_id));
		marker = res.page.marker;
		assert.equal(res.page.count, TOTAL);
	}
	assert.deepEqual(await shows(l, `Page 1 · 1–20 of ${n(TOTAL)} ·`), expected[0]);
	assert.equal(await l.prev.isDisabled(), true);
	for (let i = 1; i < 4; i++) {
		await l.next.click();
		assert.deepEqual(await shows(l, `Page ${i + 1} · ${i * 20 + 1}–${i * 20 + 20} of ${n(TOTAL)} ·`), expected[i]);
	}
	await viewportShot(cp, 'fleet', l.next, { block: 'end' });
	for (let i = 2; i >= 0; i--) {
		await l.prev.click();
		assert.deepEqual(await shows(l, `Page ${i + 1} · ${i * 20 + 1}–${i * 20 + 20} of ${n(TOTAL)} ·`), expected[i]);
	}
	assert.equal(await l.prev.isDisabled(), true);
	assert.equal(new Set(expected.flat()).size, 80);
	await screenshot('fleet');
});

suite.test('filters by node ID prefix, name prefix, product and status give the right rows and count', async ({ page, cp, api, sim, daemon, screenshot }) => {
	await fleet(api, daemon);
	/* One device online, one that came and said goodbye. */
	await sim({ device: devices[ONLINE_I] });
	const gone = await sim({ device: devices[OFFLINE_I], serve: 1, args: ['--deregister'] });
	await gone.waitForLine(/^deregistered /);
	await signIn(page, daemon, '#/devices');
	const l = list(page);
	const search = page.getByRole('search', { name: 'Find devices' });
	await shows(l, `of ${n(TOTAL)} ·`);

	/* Node ID prefix: 100 devices, in node ID order, five pages. */
	await search.getByLabel('Node ID starts with').fill(`${P}012`);
	await search.getByRole('button', { name: 'Search' }).click();
	assert.deepEqual(await shows(l, 'Page 1 · 1–20 of 100 ·'), ids(1200, 1220));
	for (let i = 1; i < 5; i++) {
		await l.next.click();
		assert.deepEqual(await shows(l, `Page ${i + 1} · ${i * 20 + 1}–${i * 20 + 20} of 100 ·`), ids(1200 + i * 20, 1220 + i * 20));
	}
	assert.equal(await l.next.isDisabled(), true);
	await l.prev.click();
	assert.deepEqual(await shows(l, 'Page 4 · 61–80 of 100 ·'), ids(1260, 1280));
	/* The search is a link: the filters are in the address, and a reload keeps them. */
	assert.match(page.url(), new RegExp(`#/devices\\?node_id_prefix=${P}012$`));
	await page.reload();
	assert.deepEqual(await shows(l, 'Page 1 · 1–20 of 100 ·'), ids(1200, 1220));

	/* Name prefix: 37 Cellars, in name order, two pages. */
	await search.getByRole('button', { name: 'Clear filters' }).click();
	await shows(l, `of ${n(TOTAL)} ·`);
	await search.getByLabel('Name starts with').fill('Cellar');
	await search.getByRole('button', { name: 'Search' }).click();
	const cellars = devices.filter((d, i) => isCellar(i)).map((d) => d.node_id);
	assert.deepEqual(await shows(l, 'Page 1 · 1–20 of 37 ·'), cellars.slice(0, 20));
	await l.next.click();
	assert.deepEqual(await shows(l, 'Page 2 · 21–37 of 37 ·'), cellars.slice(20));
	assert.equal(await l.next.isDisabled(), true);
	const names = await l.region.locator('tbody tr > td[data-label="Name"]').allInnerTexts();
	assert.ok(names.every((x) => x.startsWith('Cellar ')));
	await search.getByLabel('Name starts with').fill('Cellar 0053');
	await search.getByRole('button', { name: 'Search' }).click();
	assert.deepEqual(await shows(l, 'Page 1 · 1–7 of 7 ·'), ids(530, 537));
	await viewportShot(cp, 'searched', page.getByRole('navigation', { name: 'Main' }));

	/* Product: fleetB's 50, oldest first (they were made in parallel, so in no
	 * particular order of node ID): three pages holding each of them once. */
	await search.getByRole('button', { name: 'Clear filters' }).click();
	await shows(l, `of ${n(TOTAL)} ·`);
	await search.getByLabel('Product').fill('fleetB');
	await search.getByRole('button', { name: 'Search' }).click();
	const seen = await shows(l, 'Page 1 · 1–20 of 50 ·');
	await l.next.click();
	seen.push(...await shows(l, 'Page 2 · 21–40 of 50 ·'));
	await l.next.click();
	seen.push(...await shows(l, 'Page 3 · 41–50 of 50 ·'));
	assert.equal(await l.next.isDisabled(), true);
	assert.deepEqual(seen.sort(), ids(A, A + B));

	/* Status: the one online, the one offline, and the rest never connected. Choosing a
	 * status searches at once. */
	await search.getByRole('button', { name: 'Clear filters' }).click();
	await shows(l, `of ${n(TOTAL)} ·`);
	await search.getByLabel('Status').selectOption('ONLINE');
	assert.deepEqual(await shows(l, 'Page 1 · 1–1 of 1 ·'), [devices[ONLINE_I].node_id]);
	await see(l.region.getByRole('row', { name: new RegExp(devices[ONLINE_I].node_id) }), 'ONLINE');
	await viewportShot(cp, 'online-filter');
	await search.getByLabel('Status').selectOption('OFFLINE');
	assert.deepEqual(await shows(l, 'Page 1 · 1–1 of 1 ·'), [devices[OFFLINE_I].node_id]);
	await search.getByLabel('Status').selectOption('INACTIVE');
	const inactive = (await api.get('/devices?status=INACTIVE&limit=20')).devices.map((d) => d.node_id);
	assert.deepEqual(await shows(l, `Page 1 · 1–20 of ${n(TOTAL - 2)} ·`), inactive);
	assert.ok(!inactive.includes(devices[ONLINE_I].node_id) && !inactive.includes(devices[OFFLINE_I].node_id));
	await screenshot('filtered');

	/* The overview counts the same fleet, and its "online" link is that search. */
	await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
	const counts = page.getByRole('region', { name: 'Devices' });
	const stat = (term) => counts.locator('dt').filter({ hasText: new RegExp(`^${term}$`) }).locator('xpath=following-sibling::dd[1]');
	await expectText(stat('Total'), new RegExp(`^${n(TOTAL)}$`));
	await expectText(stat('Online'), /^1$/);
	await expectText(stat('Offline'), /^1$/);
	await expectText(stat('Inactive'), new RegExp(`^${n(TOTAL - 2)} `));
	await expectText(stat('Asleep'), /^0 /);
	await counts.getByRole('link', { name: 'online', exact: true }).click();
	assert.deepEqual(await shows(list(page), 'Page 1 · 1–1 of 1 ·'), [devices[ONLINE_I].node_id]);
});

suite.test('a prefix search whose first page holds none of the product says so and pages on', async ({ page, api, daemon, screenshot }) => {
	await fleet(api, daemon);
	/* The prefix holds all 10 050 devices; a search examines at most 10 000 of them per
	 * page, and fleetB's come after those. */
	const res = await api.get(`/devices?node_id_prefix=${P}&product_id=fleetB&limit=20`);
	assert.equal(res.devices.length, 0);
	assert.ok(res.page.marker, 'the API gave no marker');
	assert.equal(res.page.count_capped, true);

	await signIn(page, daemon, `#/devices?node_id_prefix=${P}&product_id=fleetB`);
	const l = list(page);
	await expectText(l.status, /^Page 1 · none on this page; more may follow/);
	await see(l.region, 'None on this page; more may follow: Next page looks further.');
	assert.deepEqual(await l.nodeIds(), []);
	await screenshot('short-page');
	await l.next.click();
	assert.deepEqual(await shows(l, /^Page 2 · 1–20 of at least/), ids(A, A + 20));
	await l.next.click();
	assert.deepEqual(await shows(l, /^Page 3 · 21–40 of at least/), ids(A + 20, A + 40));
	await l.next.click();
	assert.deepEqual(await shows(l, /^Page 4 · 41–50 of /), ids(A + 40, A + 50));
	assert.equal(await l.next.isDisabled(), true);
	await l.prev.click();
	assert.deepEqual(await shows(l, /^Page 3 · 21–40 of /), ids(A + 20, A + 40));
});

suite.test('the device list at a phone\'s width', { viewport: PHONE }, async ({ page, cp, api, daemon }) => {
	await fleet(api, daemon);
	await signIn(page, daemon, `#/devices?node_id_prefix=${P}0000`);
	const l = list(page);
	assert.deepEqual(await shows(l, 'Page 1 · 1–10 of 10 ·'), ids(0, 10));
	await expectVisible(l.region.getByRole('link', { name: devices[0].node_id }));
	await waitUntil(async () => (await page.evaluate(() => document.documentElement.scrollWidth)) <= PHONE.width,
		{ message: 'the page is wider than the phone' });
	await viewportShot(cp, 'phone');
});
