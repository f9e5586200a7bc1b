/*
 * firmware: the Firmware page (console/pages/firmware*.js) against the real API of
 * docs/firmware.md — a package uploaded through the page and listed with its size and
 * SHA-256; a duplicate version refused with the API's 409 at the version field; a
 * campaign over two devices (none connected: their targets wait) created in the form,
 * listed running over 2 targets, paused (from the page, and from the API: the page
 * follows the events stream), resumed and cancelled, its counts and target devices shown;
 * the package's delete refused while the campaign runs, allowed once it is cancelled.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { consoleTests, expectText, expectVisible, newNodeId, see, waitUntil } from './harness.mjs';
import { signIn, viewportShot } from './device-setup.mjs';

const suite = consoleTests();

/* A package's bytes: size bytes, not all alike. */
function packageBytes(size, seed) {
	const b = Buffer.alloc(size);
	for (let i = 0; i < size; i++)
		b[i] = (i * 31 + seed) & 0xff;
	return b;
}

/* POST …/firmware with the bytes as the body, as the API takes an upload (the test
 * client sends JSON only). Resolves to {status, body}. */
async function upload(daemon, query, bytes) {
	const qs = new URLSearchParams(query).toString();
	const res = await fetch(`${daemon.api.url('/firmware')}?${qs}`, {
		method: 'POST',
		headers: { 'X-Auth-Token': daemon.token, 'Content-Type': 'application/octet-stream' },
		body: bytes,
	});
	const text = await res.text();
	return { status: res.status, body: text ? JSON.parse(text) : null };
}

/* The packages table's row of a version. */
const packageRow = (page, version) => page.getByRole('table', { name: 'Firmware packages of the project' })
	.getByRole('row').filter({ hasText: version });

suite.test('a package uploaded through the page is listed; a duplicate version shows the API\'s 409 at its field', async ({ page, cp, api, daemon, screenshot }) => {
	await api.createProduct({ product_id: 'fw-meter', name: 'Firmware meter' });
	const bytes = packageBytes(3000, 7);
	const sha = crypto.createHash('sha256').update(bytes).digest('hex');

	await signIn(page, daemon, '#/firmware');
	await expectVisible(page.getByRole('heading', { name: 'Firmware', level: 1 }));
	const form = page.getByRole('form', { name: 'Upload a package' });
	await form.getByLabel('Product').selectOption('fw-meter');
	await form.getByLabel('Version').fill('1.0.0');
	await form.getByLabel('Description').fill('first release');
	await form.getByLabel('Package file').setInputFiles({ name: 'meter-1.0.0.bin', mimeType: 'application/octet-stream', buffer: bytes });
	await form.getByRole('button', { name: 'Upload package' }).click();
	await see(form, 'Uploaded fw-meter 1.0.0');

	/* Listed as the API keeps it: size, the SHA-256 of the very bytes, the description. */
	const row = packageRow(page, '1.0.0');
	await expectText(row, 'fw-meter');
	await expectText(row, '2.9 KiB');
	await expectText(row, sha.slice(0, 12));
	await expectText(row, 'first release');
	const listed = await api.get('/firmware?product_id=fw-meter');
	assert.equal(listed.count, 1);
	assert.equal(listed.packages[0].sha256, sha);
	assert.equal(listed.packages[0].size, bytes.length);
	assert.equal(listed.packages[0].description, 'first release');
	/* The form is ready for the next one. */
	assert.equal(await form.getByLabel('Version').inputValue(), '');

	/* The same version again: what the API answers is shown beside the version. The
	 * daemon refuses it when the headers arrive, before the body: a file of some size
	 * (2 MiB) shows that the browser gets that early answer. */
	const dup = await upload(daemon, { product_id: 'fw-meter', version: '1.0.0' }, packageBytes(10, 1));
	assert.equal(dup.status, 409);
	cp.allowHttpError(409, '/firmware?');
	await form.getByLabel('Version').fill('1.0.0');
	await form.getByLabel('Package file').setInputFiles({ name: 'again.bin', mimeType: 'application/octet-stream', buffer: packageBytes(2 << 20, 2) });
	await form.getByRole('button', { name: 'Upload package' }).click();
	await see(form.getByRole('alert'), dup.body.error_msg);
	const version = form.getByLabel('Version');
	await waitUntil(async () => (await version.getAttribute('aria-invalid')) === 'true', { message: 'the version is not marked' });
	await expectText(form.locator('.field-error').filter({ visible: true }), dup.body.error_msg);
	assert.equal((await api.get('/firmware?product_id=fw-meter')).count, 1, 'a refused upload left a package behind');
	await screenshot('package-duplicate');
});

suite.test('a campaign over two devices: listed running over 2 targets; pause, resume, cancel; the package deleted only once it ended', async ({ page, cp, api, daemon, screenshot }) => {
	await api.createProduct({ product_id: 'fw-camp', name: 'Campaign meter' });
	const up = await upload(daemon, { product_id: 'fw-camp', version: '2.0.0', description: 'big fix' }, packageBytes(5000, 3));
	assert.equal(up.status, 201, JSON.stringify(up.body));
	const pkg = up.body;
	const devices = [];
	for (let i = 0; i < 2; i++)
		devices.push(await api.createDevice({ node_id: newNodeId(), product_id: 'fw-camp' }));

	await signIn(page, daemon, '#/firmware');
	const form = page.getByRole('form', { name: 'New campaign' });
	await form.getByLabel('Campaign name').fill('camp to 2.0.0');
	await form.getByLabel('Package', { exact: true }).selectOption(pkg.package_id);
	await form.getByLabel('Listed devices').check();
	await form.getByLabel('Device IDs').fill(devices.map((d) => d.device_id).join('\n'));
	/* The defaults of docs/firmware.md are the placeholders. */
	assert.equal(await form.getByLabel('Max concurrent').getAttribute('placeholder'), '100');
	assert.equal(await form.getByLabel('Rate per minute').getAttribute('placeholder'), '600');
	assert.equal(await form.getByLabel('Failure threshold (%)').getAttribute('placeholder'), '20');
	await form.getByLabel('Retries').fill('1');
	await form.getByRole('button', { name: 'Create campaign' }).click();
	await see(form, 'Created campaign camp to 2.0.0 over 2 devices');

	const campaigns = page.getByRole('table', { name: 'Firmware campaigns of the project' });
	const row = campaigns.getByRole('row').filter({ has: page.getByRole('link', { name: 'camp to 2.0.0' }) });
	await expectText(row, 'running');
	await expectText(row, 'fw-camp 2.0.0');
	await expectText(row.locator('td[data-label="Targets"]'), /^2$/);
	await expectText(row, '0 of 2 ended');
	const [made] = (await api.get('/firmware-campaigns')).campaigns.filter((c) => c.name === 'camp to 2.0.0');
	assert.equal(made.targets, 2);
	assert.equal(made.settings.retries, 1);
	assert.equal(made.settings.max_concurrent, 100);
	await screenshot('campaign-listed');

	/* The package cannot go while a running campaign uses it: the API's words. */
	const refused = await api.delete(`/firmware/${pkg.package_id}`).catch((e) => e);
	assert.equal(refused.status, 409);
	cp.allowHttpError(409, `/firmware/${pkg.package_id}`);
	await packageRow(page, '2.0.0').getByRole('button', { name: 'Delete package fw-camp 2.0.0' }).click();
	await page.getByRole('dialog').getByRole('button', { name: 'Delete package' }).click();
	await see(page, refused.errorMsg);
	await expectVisible(packageRow(page, '2.0.0'));
	await viewportShot(cp, 'firmware', page.getByRole('heading', { name: 'Firmware', level: 1 }));

	/* The campaign's page. */
	await row.getByRole('link', { name: 'camp to 2.0.0' }).click();
	await expectVisible(page.getByRole('heading', { name: 'Campaign camp to 2.0.0', level: 1 }));
	const campaign = page.getByRole('region', { name: 'Campaign', exact: true });
	const status = campaign.locator('.fw-status');
	await expectText(status, 'running');
	await expectText(campaign, 'fw-camp 2.0.0');
	await expectText(page.locator('.page-head .stream-state'), /^live$/);
	const targets = page.getByRole('table', { name: /target devices/ });
	for (const d of devices)
		await expectText(targets.getByRole('row').filter({ hasText: d.node_id }), /waiting|starting/);
	const pause = campaign.getByRole('button', { name: 'Pause' });
	const resume = campaign.getByRole('button', { name: 'Resume' });
	assert.ok(await resume.isDisabled(), 'Resume is enabled while running');

	await pause.click();
	await expectText(status, 'paused');
	await waitUntil(() => resume.isEnabled(), { message: 'Resume is not enabled when paused' });
	assert.ok(await pause.isDisabled());
	assert.equal((await api.get(`/firmware-campaigns/${made.campaign_id}`)).status, 'paused');

	await resume.click();
	await expectText(status, 'running');

	/* Paused elsewhere (the API): the page follows the events stream. */
	await api.post(`/firmware-campaigns/${made.campaign_id}/pause`);
	await expectText(status, 'paused');
	await resume.click();
	await expectText(status, 'running');

	await campaign.getByRole('button', { name: 'Cancel campaign' }).click();
	await page.getByRole('dialog').getByRole('button', { name: 'Cancel campaign' }).click();
	await expectText(status, 'cancelled');
	await expectText(campaign.locator('dl.stats'), /Cancelled\s+2\b/);
	await expectText(campaign.locator('dl.stats'), /Waiting\s+0\b/);
	await expectText(campaign, '2 of 2 ended (100 %)');
	assert.ok(await pause.isDisabled() && await resume.isDisabled());
	assert.ok(await campaign.getByRole('button', { name: 'Cancel campaign' }).isDisabled());
	for (const d of devices)
		await expectText(targets.getByRole('row').filter({ hasText: d.node_id }), 'cancelled');
	/* The state filter asks the server. */
	await page.getByLabel('State', { exact: true }).selectOption('waiting');
	await see(targets, 'No target devices in this state.');
	await page.getByLabel('State', { exact: true }).selectOption('cancelled');
	await expectText(targets.getByRole('row').filter({ hasText: devices[1].node_id }), 'cancelled');
	await viewportShot(cp, 'campaign');

	/* Ended, the package may go (docs/firmware.md: 409 only while running or paused). */
	await page.getByRole('link', { name: 'Firmware' }).first().click();
	await expectVisible(page.getByRole('heading', { name: 'Firmware', level: 1 }));
	await expectText(campaigns.getByRole('row').filter({ hasText: 'camp to 2.0.0' }), 'cancelled');
	await packageRow(page, '2.0.0').getByRole('button', { name: 'Delete package fw-camp 2.0.0' }).click();
	await page.getByRole('dialog').getByRole('button', { name: 'Delete package' }).click();
	await see(page, 'Deleted package fw-camp 2.0.0.');
	await waitUntil(async () => (await packageRow(page, '2.0.0').count()) === 0, { message: 'the package is still listed' });
	assert.equal((await api.get('/firmware?product_id=fw-camp')).count, 0);
	await screenshot('package-deleted');
});
