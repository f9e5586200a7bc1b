/*
 * products: the walk-through's product side in the console, as a person does it — sign
 * in and out; create a product; build the water meter's model in the model editor's
 * forms and save it; export it and import it into another product (IoTDA's
 * service_capabilities format); the JSON view; and a refused model, whose error shows
 * beside the field (or the property) the API names.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { consoleTests, expectText, expectVisible, newNodeId, see, seeNo, waitUntil } from './harness.mjs';
import { meter, signIn, viewShot } from './walkthrough.mjs';

const suite = consoleTests();

/* The product page's groups: a service, a property, a command… (fieldsets named by their
 * legend, which follows the name typed into them). */
const group = (scope, name) => scope.getByRole('group', { name, exact: true });

suite.test('sign in with a token, whose project the console works in; a wrong token is refused with the API\'s error; sign out', async ({ page, cp, api, daemon, screenshot }) => {
	/* What the API itself answers to a token it does not know: the console must show
	 * exactly that. */
	const wrongToken = 'f'.repeat(64);
	const refused = await api.get('/v5/token', { token: wrongToken }).catch((e) => e);
	assert.equal(refused.status, 401);

	const sent = []; // every API call the page makes: where the token travels
	page.on('request', (req) => {
		if (new URL(req.url()).pathname.startsWith('/v5/'))
			sent.push({ url: req.url(), token: req.headers()['x-auth-token'] });
	});

	await page.goto('/console/');
	await expectVisible(page.getByRole('heading', { name: 'Sign in' }));
	assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 0, 'the navigation shows before signing in');
	assert.equal(await page.getByLabel('Project').count(), 0, 'the sign-in asks for a project: it comes from the token');

	cp.allowHttpError(401, '/v5/token');
	await page.getByLabel('API token').fill(wrongToken);
	await page.getByRole('button', { name: 'Sign in' }).click();
	const alert = page.getByRole('alert');
	await expectText(alert, 'The token was refused');
	await expectText(alert, refused.errorMsg);
	assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'a refused sign-in kept something');
	await screenshot('token-refused');

	/* Another project's token signs into that project: its product list is its own. */
	const otherProject = `other${Date.now().toString(36)}`;
	const otherToken = await daemon.createToken(otherProject);
	await api.post('/products', { product_id: 'only-in-default', name: 'Default\'s' });
	await page.getByLabel('API token').fill(otherToken);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expectText(page.getByRole('banner'), new RegExp(`Project\\s+${otherProject}\\b`));
	await page.getByRole('link', { name: 'Products' }).click();
	await expectText(page.getByRole('main'), 'No products');
	await seeNo(page.getByRole('main'), 'only-in-default');
	await page.getByRole('button', { name: 'Sign out' }).click();
	await api.delete('/products/only-in-default');

	/* The token's own project; the sign-in keeps the page the tab was on. */
	await page.getByLabel('API token').fill(daemon.token);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await expectVisible(page.getByRole('navigation', { name: 'Main' }));
	await expectVisible(page.getByRole('heading', { name: 'Products', level: 1 }));
	await page.getByRole('link', { name: 'Overview' }).click();
	await expectVisible(page.getByRole('heading', { name: 'Overview', level: 1 }));
	await expectText(page.getByRole('banner'), new RegExp(`Project\\s+${daemon.project}\\b`));

	/* The token is in this tab's sessionStorage: not in a cookie, not in the URL, not in
	 * localStorage; the API calls carry it in X-Auth-Token only. */
	const stored = await page.evaluate(() => ({ ...sessionStorage }));
	assert.ok(Object.values(stored).includes(daemon.token), 'the token is not in sessionStorage');
	assert.equal(await page.evaluate(() => localStorage.length), 0);
	assert.equal(await page.evaluate(() => document.cookie), '');
	assert.deepEqual(await page.context().cookies(), []);
	assert.ok(!page.url().includes(daemon.token), `the token is in the URL ${page.url()}`);
	await waitUntil(() => sent.some((r) => r.token === daemon.token), { message: 'no API call carried the token' });
	for (const r of sent)
		assert.ok(!r.url.includes(daemon.token), `the token is in the URL of ${r.url}`);

	/* A reload keeps the tab signed in; another tab is not. */
	await page.reload();
	await expectVisible(page.getByRole('heading', { name: 'Overview', level: 1 }));
	const other = await page.context().newPage();
	try {
		await other.goto('/console/');
		await expectVisible(other.getByRole('heading', { name: 'Sign in' }));
	} finally {
		await other.close();
	}

	await page.getByRole('button', { name: 'Sign out' }).click();
	await expectVisible(page.getByRole('heading', { name: 'Sign in' }));
	await see(page, 'Signed out.');
	assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 0);
	assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'sign out left the session behind');
});

suite.test('a product created in the UI gets the water meter\'s model, built in the forms and saved', async ({ page, api, daemon, screenshot }) => {
	const id = 'wm-forms';
	await signIn(page, daemon, '#/products');
	await expectVisible(page.getByRole('heading', { name: 'Products', level: 1 }));

	const create = page.getByRole('form', { name: 'New product' });
	await create.getByLabel('Product ID').fill(id);
	await create.getByLabel('Name', { exact: true }).fill('Water meter (forms)');
	await create.getByLabel('Device type').fill('WaterMeter');
	await create.getByLabel('Manufacturer').fill('ACME');
	await create.getByRole('button', { name: 'Create product' }).click();
	await see(create, /^Created/);
	/* Listed, and stored as typed. */
	const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: id, exact: true }) });
	await expectText(row, 'Water meter (forms)');
	await expectText(row, 'ACME');
	const made = await api.get(`/products/${id}`);
	assert.equal(made.name, 'Water meter (forms)');
	assert.equal(made.device_type, 'WaterMeter');
	assert.equal(made.manufacturer_name, 'ACME');
	assert.deepEqual(made.service_capabilities || [], []);

	await create.getByRole('link', { name: id }).click();
	await expectVisible(page.getByRole('heading', { name: 'Product Water meter (forms)', level: 1 }));

	/* A service WaterMeter… */
	await page.getByRole('button', { name: 'Add service' }).click();
	const svc0 = group(page, 'Service #1');
	await svc0.getByLabel('Service ID').fill('WaterMeter');
	const svc = group(page, 'Service WaterMeter');
	await svc.getByLabel('Service type').fill('WaterMeter');
	await svc.getByLabel('Option').selectOption('Mandatory');

	/* …its properties: [name, data type, method, min, max, unit]… */
	const props = [
		['battery', 'int', 'R', '0', '100', '%'],
		['flow', 'long', 'R', '0', '', 'L'],
		['interval', 'int', 'RW', '1', '65535', 's'],
	];
	for (const [i, [name, type, method, min, max, unit]] of props.entries()) {
		await svc.getByRole('button', { name: 'Add property' }).click();
		await group(svc, `Property #${i + 1}`).getByLabel('Property name').fill(name);
		const p = group(svc, `Property ${name}`);
		await p.getByLabel('Data type').selectOption(type);
		await p.getByLabel('Method').selectOption(method);
		await p.getByLabel('Min', { exact: true }).fill(min);
		if (max)
			await p.getByLabel('Max', { exact: true }).fill(max);
		await p.getByLabel('Unit').fill(unit);
	}

	/* …and a command with a para, answered by a response with its own. */
	await svc.getByRole('button', { name: 'Add command' }).click();
	await group(svc, 'Command #1').getByLabel('Command name').fill('SET_INTERVAL');
	const cmd = group(svc, 'Command SET_INTERVAL');
	await cmd.getByRole('button', { name: 'Add para', exact: true }).click();
	await group(cmd, 'Para #1').getByLabel('Para name').fill('interval');
	const para = group(cmd, 'Para interval');
	await para.getByLabel('Min', { exact: true }).fill('1');
	await para.getByLabel('Max', { exact: true }).fill('65535');
	await para.getByLabel('Required').check();
	await cmd.getByRole('button', { name: 'Add response' }).click();
	await group(cmd, 'Response #1').getByLabel('Response name').fill('ACK');
	const resp = group(cmd, 'Response ACK');
	await resp.getByRole('button', { name: 'Add response para' }).click();
	await group(resp, 'Para #1').getByLabel('Para name').fill('result');

	await see(page, 'Unsaved changes.');
	await page.getByRole('button', { name: 'Save model' }).click();
	await see(page, 'Model saved.');
	await screenshot('model-saved');

	/* What the daemon stored is what was typed. */
	const stored = (await api.get(`/products/${id}`)).service_capabilities;
	assert.equal(stored.length, 1);
	assert.equal(stored[0].service_id, 'WaterMeter');
	assert.equal(stored[0].service_type, 'WaterMeter');
	assert.equal(stored[0].option, 'Mandatory');
	assert.deepEqual(stored[0].properties.map((p) => [p.property_name, p.data_type, p.method,
		String(p.min), p.max === undefined ? '' : String(p.max), p.unit]), props);
	const [c] = stored[0].commands;
	assert.equal(c.command_name, 'SET_INTERVAL');
	assert.deepEqual(c.paras.map((p) => [p.para_name, p.data_type, Number(p.min), Number(p.max), p.required]),
		[['interval', 'int', 1, 65535, true]]);
	assert.deepEqual(c.responses.map((r) => [r.response_name, r.paras.map((p) => p.para_name)]), [['ACK', ['result']]]);

	/* And the page shows it again after a reload. */
	await page.reload();
	const again = group(page, 'Service WaterMeter');
	assert.equal(await group(again, 'Property flow').getByLabel('Unit').inputValue(), 'L');
	assert.equal(await group(again, 'Property interval').getByLabel('Method').inputValue(), 'RW');
	assert.equal(await group(group(again, 'Command SET_INTERVAL'), 'Para interval').getByLabel('Max', { exact: true }).inputValue(), '65535');
	await expectVisible(group(again, 'Response ACK'));
	await screenshot('model');
	await page.getByRole('heading', { name: 'Model', level: 2 }).evaluate((el) => el.scrollIntoView({ block: 'start' }));
	await viewShot(page, 'model');
});

suite.test('a model is exported and imported in the service_capabilities format, and edited in the JSON view', async ({ page, api, daemon, t }) => {
	await api.createProduct({ product_id: 'wm-export', name: 'Meter to export', service_capabilities: meter.model });
	await api.createProduct({ product_id: 'wm-import', name: 'Meter to import into' });
	const original = (await api.get('/products/wm-export')).service_capabilities;

	await signIn(page, daemon, '#/products/wm-export');
	await expectVisible(group(page, 'Service WaterMeter'));
	const [download] = await Promise.all([
		page.waitForEvent('download'),
		page.getByRole('button', { name: 'Export JSON' }).click(),
	]);
	assert.equal(download.suggestedFilename(), 'wm-export-model.json');
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'console-export-'));
	t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
	const file = path.join(dir, download.suggestedFilename());
	await download.saveAs(file);
	const exported = JSON.parse(fs.readFileSync(file, 'utf8'));
	assert.deepEqual(exported, { service_capabilities: original });
	await see(page, 'Exported wm-export-model.json.');

	/* Into the other product, as a person picks the file. */
	await page.goto('/console/#/products/wm-import');
	await expectVisible(page.getByRole('heading', { name: 'Product Meter to import into', level: 1 }));
	await see(page, 'No services yet.');
	const [chooser] = await Promise.all([
		page.waitForEvent('filechooser'),
		page.getByText('Import JSON…').click(),
	]);
	await chooser.setFiles(file);
	await see(page, 'Imported wm-export-model.json: 1 service. Not saved yet.');
	await expectVisible(group(group(page, 'Service WaterMeter'), 'Command SET_INTERVAL'));
	await page.getByRole('button', { name: 'Save model' }).click();
	await see(page, 'Model saved.');
	assert.deepEqual((await api.get('/products/wm-import')).service_capabilities, original);

	/* The same document in IoTDA's own shape, {"services": […]}, as the fixture's array. */
	const [chooser2] = await Promise.all([
		page.waitForEvent('filechooser'),
		page.getByText('Import JSON…').click(),
	]);
	const renamed = meter.model.map((s) => ({ ...s, service_id: 'Meter2' }));
	await chooser2.setFiles({ name: 'iotda.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ services: renamed })) });
	await see(page, 'Imported iotda.json: 1 service. Not saved yet.');
	await expectVisible(group(page, 'Service Meter2'));

	/* The JSON view shows the form's model, and what is applied there goes to the form. */
	await page.getByText('JSON view').click();
	const json = page.getByLabel('The model as JSON');
	const shown = JSON.parse(await waitUntil(() => json.inputValue(), { message: 'the JSON view stayed empty' }));
	assert.deepEqual(shown.service_capabilities.map((s) => s.service_id), ['Meter2']);
	assert.deepEqual(shown.service_capabilities[0].properties, meter.model[0].properties);
	shown.service_capabilities[0].properties[0].max = 99;
	shown.service_capabilities[0].properties[0].unit = '%';
	await json.fill(JSON.stringify(shown, null, 2));
	await page.getByRole('button', { name: 'Apply JSON to the form' }).click();
	await see(page, 'Applied the JSON: 1 service. Not saved yet.');
	const battery = group(group(page, 'Service Meter2'), 'Property battery');
	assert.equal(await battery.getByLabel('Max', { exact: true }).inputValue(), '99');
	assert.equal(await battery.getByLabel('Unit').inputValue(), '%');

	/* JSON that does not parse is marked at its line, and nothing is applied. */
	await json.fill('{\n  "service_capabilities": [\n    {"service_id": "X",,}\n  ]\n}');
	await page.getByRole('button', { name: 'Apply JSON to the form' }).click();
	await see(page, /^Line 3: Not JSON/);
	await expectVisible(page.getByRole('button', { name: 'Go to line 3' }));
	await expectVisible(group(page, 'Service Meter2'));

	await page.getByRole('button', { name: 'Save model' }).click();
	await see(page, 'Model saved.');
	const saved = (await api.get('/products/wm-import')).service_capabilities;
	assert.equal(saved[0].service_id, 'Meter2');
	assert.equal(Number(saved[0].properties[0].max), 99);
	assert.equal(saved[0].properties[0].unit, '%');
});

suite.test('a refused model shows the API\'s error beside the field, or the property, it names', async ({ page, cp, api, daemon, screenshot }) => {
	const id = 'wm-refused';
	await api.createProduct({ product_id: id, name: 'Meter refused', service_capabilities: meter.model });
	const before = (await api.get(`/products/${id}`)).service_capabilities;
	/* What the API says to each mistake, asked directly. */
	const refusal = async (change) => {
		const caps = structuredClone(meter.model);
		change(caps[0]);
		const e = await api.put(`/products/${id}`, { service_capabilities: caps }).catch((x) => x);
		assert.equal(e.status, 400, `the API took ${JSON.stringify(caps)}`);
		const m = /^([^:]+): (.*)$/.exec(e.errorMsg);
		assert.ok(m, `no place in "${e.errorMsg}"`);
		return { place: m[1], text: m[2], whole: e.errorMsg };
	};
	const outOfRange = await refusal((s) => { s.properties[2].default_value = 70000; });
	assert.equal(outOfRange.place, 'service_capabilities[0].properties[2].default_value');
	const wrongType = await refusal((s) => { s.properties[0].min = 'ten'; });
	assert.equal(wrongType.place, 'service_capabilities[0].properties[0].min');
	const minOverMax = await refusal((s) => { s.properties[0].min = 150; });
	assert.equal(minOverMax.place, 'service_capabilities[0].properties[0]');

	cp.allowHttpError(400, `/products/${id}`);
	await signIn(page, daemon, `#/products/${id}`);
	const svc = group(page, 'Service WaterMeter');
	const save = page.getByRole('button', { name: 'Save model' });

	/* An out-of-range default value: beside the Default value of interval, focused. */
	const interval = group(svc, 'Property interval');
	const def = interval.getByLabel('Default value');
	await def.fill('70000');
	await save.click();
	await see(page, outOfRange.whole);
	await see(page, 'Shown beside the field it names.');
	await see(interval, outOfRange.text);
	await waitUntil(async () => await def.getAttribute('aria-invalid') === 'true' &&
		await def.evaluate((el) => el === document.activeElement), { message: 'Default value is not marked and focused' });
	await screenshot('model-error');
	await viewShot(page, 'model-error');
	await def.fill('');

	/* A min that is not a number: beside battery's Min. */
	const battery = group(svc, 'Property battery');
	const min = battery.getByLabel('Min', { exact: true });
	await min.fill('ten');
	await save.click();
	await see(battery, wrongType.text);
	await waitUntil(async () => await min.getAttribute('aria-invalid') === 'true', { message: 'Min is not marked' });
	/* The previous error is gone. */
	await waitUntil(async () => await def.getAttribute('aria-invalid') === null, { message: 'the old error stayed' });
	assert.equal(await interval.getByText(outOfRange.text).count(), 0);

	/* Min above max names the property itself: shown at the top of its group. */
	await min.fill('150');
	await save.click();
	const nodeError = battery.getByRole('alert').filter({ hasText: minOverMax.text });
	await expectVisible(nodeError);
	assert.equal(await min.getAttribute('aria-invalid'), null);

	/* None of it was stored. */
	assert.deepEqual((await api.get(`/products/${id}`)).service_capabilities, before);
});

suite.test('a product is deleted after its confirmation; one that has devices, or a taken id, is refused as the API says', async ({ page, cp, api, daemon }) => {
	await api.createProduct({ product_id: 'wm-busy', name: 'Meter with a device' });
	const device = await api.createDevice({ node_id: newNodeId(), product_id: 'wm-busy' });
	const busy = await api.delete('/products/wm-busy').catch((e) => e);
	assert.equal(busy.status, 409);
	const taken = await api.createProduct({ product_id: 'wm-busy' }).catch((e) => e);
	assert.equal(taken.status, 409);

	cp.allowHttpError(409, '/products');
	await signIn(page, daemon, '#/products');
	const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'wm-busy', exact: true }) });
	await expectText(row, 'Meter with a device');
	/* Its number of devices, which is why it cannot go yet. */
	const column = (await page.getByRole('columnheader').allInnerTexts()).indexOf('Devices');
	assert.ok(column >= 0, 'no Devices column');
	assert.equal(await row.getByRole('cell').nth(column).innerText(), '1');

	/* An id that is taken: the API's 409, the field marked. */
	const create = page.getByRole('form', { name: 'New product' });
	await create.getByLabel('Product ID').fill('wm-busy');
	await create.getByLabel('Name', { exact: true }).fill('Again');
	await create.getByRole('button', { name: 'Create product' }).click();
	await see(create, `409 — ${taken.errorMsg}`);
	const idField = create.getByLabel('Product ID');
	await waitUntil(async () => await idField.getAttribute('aria-invalid') === 'true' &&
		await idField.evaluate((el) => el === document.activeElement), { message: 'the taken Product ID is not marked' });

	/* Cancel keeps it; confirmed, the 409 of a product with devices is shown. */
	const del = page.getByRole('button', { name: 'Delete product wm-busy' });
	const dialog = page.getByRole('dialog', { name: 'Delete product wm-busy?' });
	await del.click();
	await dialog.getByRole('button', { name: 'Cancel' }).click();
	await expectVisible(row);
	await del.click();
	await dialog.getByRole('button', { name: 'Delete product' }).click();
	await see(page, `409 — ${busy.errorMsg}`);
	await expectVisible(row);
	await viewShot(page, 'products');

	/* Without its device it goes. */
	await api.delete(`/devices/${device.device_id}`);
	await del.click();
	await dialog.getByRole('button', { name: 'Delete product' }).click();
	await see(page, 'Deleted product wm-busy.');
	await seeNo(page.getByRole('table'), 'Meter with a device');
	await assert.rejects(api.get('/products/wm-busy'), (e) => e.status === 404);
});
