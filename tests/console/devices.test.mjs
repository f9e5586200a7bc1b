/*
 * devices: the device list as a person uses it — register a device (its generated secret
 * shown once, with a copy button), watch devices come ONLINE without reloading (the
 * events stream), on the list and on the device page; reset a secret and delete a
 * device from the list.
 *
 * The product, its model and the water meter's JavaScript codec are set up through the
 * API (device-setup.mjs); creating them in the UI is the products-side tests' business.
 */
import assert from 'node:assert/strict';

import { consoleTests, expectText, expectVisible, newNodeId, see, seeNo, waitUntil } from './harness.mjs';
import { meterProduct, signIn, viewportShot } from './device-setup.mjs';

const suite = consoleTests();
const PRODUCT = 'devmeter';

let productMade = null;
/* The product, once for the file (the tests share its daemon). */
function product(api) {
	productMade = productMade || meterProduct(api, PRODUCT);
	return productMade;
}

/* Counts the page's loads: a test that says "without reload" checks it stayed at 1. */
function countLoads(page) {
	const counter = { loads: 0 };
	page.on('load', () => { counter.loads += 1; });
	return counter;
}

/* The devices list's row of nodeId. */
const rowOf = (page, nodeId) => page.getByRole('row', { name: new RegExp(`\\b${nodeId}\\b`) });

suite.test('a device registered in the UI shows its generated secret once, and exists', async ({ page, cp, api, daemon, sim, screenshot }) => {
	await product(api);
	await cp.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: daemon.base });
	const nodeId = newNodeId();
	await signIn(page, daemon, '#/devices');
	await expectVisible(page.getByRole('heading', { name: 'Devices', level: 1 }));

	const form = page.getByRole('form', { name: 'Register a device' });
	await form.getByLabel('Node ID').fill(nodeId);
	await form.getByLabel('Product').fill(PRODUCT);
	await form.getByLabel('Name').fill(`Kitchen ${nodeId}`);
	await form.getByLabel(/Secure access/).check();
	await form.getByRole('button', { name: 'Register device' }).click();

	const deviceId = `${PRODUCT}_${nodeId}`;
	await expectText(form.getByRole('status'), `Registered ${deviceId}`);
	/* The secret: generated (the field was left empty), shown once, with a copy button. */
	const panel = page.getByRole('region', { name: 'Device secret' });
	await see(panel, 'Shown only now');
	const secretBox = panel.getByRole('textbox', { name: `Secret of ${deviceId}` });
	const secret = await secretBox.inputValue();
	assert.match(secret, /^[0-9a-f]{32}$/, `the secret shown is ${JSON.stringify(secret)}`);
	await panel.getByRole('button', { name: 'Copy secret' }).click();
	await see(panel, 'Copied.');
	/* What a person pastes from the clipboard is the secret. */
	assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
	await screenshot('registered-secret');

	/* The list shows the new device, never connected; the API has it as it was asked. */
	const row = rowOf(page, nodeId);
	await see(row, 'INACTIVE');
	await see(row, 'DTLS');
	const dev = await api.getDevice(deviceId);
	assert.equal(dev.node_id, nodeId);
	assert.equal(dev.product_id, PRODUCT);
	assert.equal(dev.device_name, `Kitchen ${nodeId}`);
	assert.equal(dev.auth_info.secure_access, true);
	assert.equal(dev.status, 'INACTIVE');
	assert.equal(dev.auth_info.secret, undefined, 'GET shows the secret');

	/* The device connects over DTLS with the secret the page showed: ONLINE on the list,
	 * live, while the secret is still on screen (no reload would keep it there). */
	const loads = countLoads(page);
	await sim({ nodeId, psk: secret, meter: true });
	await see(row, 'ONLINE');
	await expectVisible(panel);
	assert.equal(loads.loads, 0, 'the page was reloaded');
	await expectText(page.getByRole('status').filter({ hasText: /statuses live/ }), 'statuses live');
	await screenshot('online');
	await viewportShot(cp, 'online');

	/* Once saved, the secret goes and is not to be seen again. */
	await panel.getByRole('button', { name: 'I have saved it' }).click();
	await seeNo(page, secret);
	await page.reload();
	await see(rowOf(page, nodeId), 'ONLINE');
	await seeNo(page, 'Shown only now');
});

suite.test('a device turns ONLINE on its page without a reload', async ({ page, api, daemon, sim, screenshot }) => {
	await product(api);
	const dev = await api.createDevice({ node_id: newNodeId(), product_id: PRODUCT, device_name: 'Hall' });
	await signIn(page, daemon, '#/devices');
	await rowOf(page, dev.node_id).getByRole('link', { name: dev.node_id }).click();
	await expectVisible(page.getByRole('heading', { name: 'Device Hall', level: 1 }));
	const registration = page.getByRole('region', { name: 'Registration' });
	await see(registration, 'It has never connected.');
	const identity = page.getByRole('region', { name: 'Identity' });
	await see(identity, 'INACTIVE');
	await see(identity, 'no: plain CoAP');

	const loads = countLoads(page);
	await sim({ device: dev, meter: true });
	await see(identity, 'ONLINE');
	await see(registration, 'udp');
	await see(page.getByRole('log'), 'registration');
	assert.equal(loads.loads, 0, 'the page was reloaded');
	await screenshot('device-online');
});

suite.test('reset a secret and delete a device from the list', async ({ page, cp, api, daemon, sim, screenshot }) => {
	await product(api);
	const secure = await api.createDevice({ node_id: newNodeId(), product_id: PRODUCT, auth_info: { secure_access: true } });
	const doomed = await api.createDevice({ node_id: newNodeId(), product_id: PRODUCT });
	const first = await sim({ device: secure, meter: true });
	await signIn(page, daemon, `#/devices?node_id_prefix=${secure.node_id.slice(0, -8)}`);
	const row = rowOf(page, secure.node_id);
	await see(row, 'ONLINE');

	/* Reset: asked first; Cancel changes nothing. */
	await row.getByRole('button', { name: `Reset the secret of ${secure.node_id}` }).click();
	const dialog = page.getByRole('dialog', { name: `Reset the secret of ${secure.node_id}?` });
	await expectVisible(dialog);
	await dialog.getByRole('button', { name: 'Cancel' }).click();
	await seeNo(page, `Reset the secret of ${secure.node_id}?`);
	await row.getByRole('button', { name: `Reset the secret of ${secure.node_id}` }).click();
	await dialog.getByRole('button', { name: 'Reset secret' }).click();
	const panel = page.getByRole('region', { name: 'Device secret' });
	const secret = await panel.getByRole('textbox', { name: `Secret of ${secure.device_id}` }).inputValue();
	assert.match(secret, /^[0-9a-f]{32}$/);
	assert.notEqual(secret, secure.auth_info.secret);
	await expectVisible(panel.getByRole('button', { name: 'Copy secret' }));
	/* The reset ended the registration: OFFLINE, live. */
	await see(row, 'OFFLINE');
	await screenshot('secret-reset');
	await first.stop();
	/* The new secret is the one that works. */
	await sim({ nodeId: secure.node_id, psk: secret, meter: true });
	await see(row, 'ONLINE');

	/* Delete: asked first, then gone from the list and from the API. */
	await page.getByRole('search').getByLabel('Node ID starts with').fill(doomed.node_id);
	await page.getByRole('button', { name: 'Search' }).click();
	const doomedRow = rowOf(page, doomed.node_id);
	await see(doomedRow, 'INACTIVE');
	await doomedRow.getByRole('button', { name: `Delete device ${doomed.node_id}` }).click();
	await page.getByRole('dialog', { name: `Delete device ${doomed.node_id}?` })
		.getByRole('button', { name: 'Delete device' }).click();
	await see(page, `Deleted ${doomed.device_id}.`);
	await see(page, 'No devices match.');
	await assert.rejects(api.getDevice(doomed.device_id), (e) => e.status === 404);
	await waitUntil(async () => (await api.get(`/devices?node_id=${doomed.node_id}`)).page.count === 0);
});
