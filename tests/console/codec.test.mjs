/*
 * codec: the product's codec page, as a person uses it — the water meter's JavaScript
 * codec (examples/watermeter/codec.js) written in the editor, refused at the line of
 * a syntax error, uploaded; the test panel decoding a meter report and encoding
 * SET_INTERVAL, with the editor's source and with the uploaded one; example payloads
 * kept on the server; and the declarative layout of the same meter, which must decode
 * and encode alike.
 */
import assert from 'node:assert/strict';

import { consoleTests, expectText, see, TIMEOUTS, waitUntil } from './harness.mjs';
import { meter, meterReportHex, setIntervalHex, signIn, viewShot } from './walkthrough.mjs';

const suite = consoleTests();

/* A meter report with a flow above 2^31 (the codec must read the uint32 unsigned), and
 * what the meter's codec makes of it. */
const BATTERY = 87;
const FLOW = 2_500_000_123;
const REPORT = meterReportHex(BATTERY, FLOW);
const DECODED = { msgType: 'deviceReq', data: [{ serviceId: 'WaterMeter', serviceData: { battery: BATTERY, flow: FLOW } }] };
const COMMAND = { msgType: 'cloudReq', serviceId: 'WaterMeter', cmd: 'SET_INTERVAL', paras: { interval: 600 }, mid: 258 };

const spaced = (hex) => hex.replace(/(..)(?=.)/g, '$1 ');

/* Decodes the payload in the test panel; resolves to the decoded message shown. */
async function decode(page, hex) {
	await page.getByLabel('Payload (hex)').fill(hex);
	await page.getByRole('button', { name: 'Decode', exact: true }).click();
	return shownDecoded(page);
}

/* A test of a JavaScript codec waits for a codec thread: a person waits as long as the
 * console does (30 s) while "Decoding…" shows. An error shown instead fails at once. */
async function shownDecoded(page) {
	const view = page.getByLabel('Decoded message');
	const failed = page.getByRole('region', { name: 'Test' }).getByRole('alert');
	await view.or(failed).first().waitFor({ state: 'visible', timeout: TIMEOUTS.device });
	if (!await view.isVisible())
		throw new Error(`the decode failed: ${await failed.first().innerText()}`);
	return JSON.parse(await view.innerText());
}

/* Encodes the command in the test panel; resolves to the hex shown, without spaces. */
async function encode(page, req) {
	await page.getByLabel('Command (cloudReq JSON)').fill(JSON.stringify(req));
	await page.getByRole('button', { name: 'Encode', exact: true }).click();
	const out = await see(page, /^([0-9A-F]{2} )*[0-9A-F]{2} \(\d+ bytes\)$/, { timeout: TIMEOUTS.device });
	return (await out.innerText()).replace(/ \(\d+ bytes\)$/, '').replace(/ /g, '');
}

suite.test('the water meter\'s JavaScript codec: a syntax error at its line, upload, decode and encode, examples kept', async ({ page, cp, api, daemon, screenshot }) => {
	const id = 'wm-js';
	await api.createProduct({ product_id: id, name: 'Meter (JavaScript)', service_capabilities: meter.model });

	/* The script with a syntax error on the line of decode()'s first statement, and what
	 * the API says of it. */
	const lines = meter.script.split('\n');
	const at = lines.findIndex((l) => l.includes('var id = payload[0];'));
	assert.ok(at >= 0, 'the example codec has no line "var id = payload[0];"');
	const broken = [...lines.slice(0, at), `${lines[at]})`, ...lines.slice(at + 1)].join('\n');
	const refused = await api.put(`/products/${id}/codec`, { kind: 'js', source: broken }).catch((e) => e);
	assert.equal(refused.status, 400);
	assert.equal(refused.body.error_line, at + 1);

	const codecUrl = new RegExp(`/products/${id}/codec$`);
	cp.allowHttpError(404, codecUrl); // no codec yet: the page says so
	cp.allowHttpError(400, codecUrl); // the upload refused
	await signIn(page, daemon, `#/products/${id}/codec`);
	await see(page, 'No codec uploaded');
	assert.equal(await page.getByLabel('Kind').inputValue(), 'js');

	const source = page.getByLabel('Codec source');
	await source.fill(broken);
	await page.getByRole('button', { name: 'Upload codec' }).click();
	await see(page, `Line ${refused.body.error_line}: ${refused.errorMsg}`, { timeout: TIMEOUTS.device });
	await screenshot('compile-error');
	await viewShot(page, 'codec-compile-error');
	/* The button puts the caret on that line, selected. */
	await page.getByRole('button', { name: `Go to line ${refused.body.error_line}` }).click();
	assert.equal(await source.evaluate((ta) => ta.value.slice(ta.selectionStart, ta.selectionEnd)), `${lines[at]})`);
	await assert.rejects(api.get(`/products/${id}/codec`), (e) => e.status === 404, 'a codec that does not compile was stored');

	/* The script as the meter's tests have it. */
	await source.fill(meter.script);
	await page.getByRole('button', { name: 'Upload codec' }).click();
	await see(page, /^Uploaded/, { timeout: TIMEOUTS.device });
	await expectText(page.getByRole('status').filter({ hasText: 'codec uploaded' }), /ACTIVE\s+JavaScript codec uploaded/);
	assert.equal(await page.getByText(/^Line \d+:/).count(), 0, 'the old error stayed');
	assert.deepEqual(await api.get(`/products/${id}/codec`), { kind: 'js', source: meter.script, status: 'ACTIVE' });

	/* A meter report: the meter's fields with their values. */
	assert.deepEqual(await decode(page, spaced(REPORT)), DECODED);
	/* The command starts as the model's first, at its para's minimum. */
	const prefilled = JSON.parse(await page.getByLabel('Command (cloudReq JSON)').inputValue());
	assert.equal(prefilled.cmd, 'SET_INTERVAL');
	assert.equal(prefilled.serviceId, 'WaterMeter');
	assert.equal(prefilled.paras.interval, meter.model[0].commands[0].paras[0].min);
	assert.equal(await encode(page, COMMAND), setIntervalHex(COMMAND.mid, COMMAND.paras.interval));
	await screenshot('codec-test');
	await viewShot(page, 'codec');

	/* A message the codec does not know: decode() throws, and the editor marks its line. */
	const thrown = await api.post(`/products/${id}/codec/test`, { payload_hex: '09' }).catch((e) => e);
	assert.equal(thrown.status, 400);
	assert.ok(thrown.body.error_line > 0, `no error_line in ${JSON.stringify(thrown.body)}`);
	cp.allowHttpError(400, `/products/${id}/codec/test`);
	await page.getByLabel('Payload (hex)').fill('09');
	await page.getByRole('button', { name: 'Decode', exact: true }).click();
	await see(page, `400 — ${thrown.errorMsg}`, { timeout: TIMEOUTS.device });
	await see(page, `Line ${thrown.body.error_line}: ${thrown.errorMsg}`);
	assert.match(lines[thrown.body.error_line - 1], /throw/);

	/* The editor's source is what is tested, unless the uploaded codec is asked for. */
	await source.fill('function decode(p) {\n  return JSON.stringify({msgType: "deviceReq", data: [{serviceId: "WaterMeter", serviceData: {battery: p[1] + 1}}]});\n}\n');
	assert.deepEqual(await decode(page, REPORT), { msgType: 'deviceReq', data: [{ serviceId: 'WaterMeter', serviceData: { battery: BATTERY + 1 } }] });
	await page.getByLabel('Test the uploaded codec instead of the editor\'s').check();
	assert.deepEqual(await decode(page, REPORT), DECODED);
	await page.getByRole('button', { name: 'Revert to the uploaded codec' }).click();
	assert.equal(await source.inputValue(), meter.script);

	/* An example payload, kept on the server: there after a reload, and decodable. */
	await page.getByLabel('Payload (hex)').fill(spaced(REPORT));
	await page.getByLabel('Example name').fill('report');
	await page.getByRole('button', { name: 'Save the payload as an example' }).click();
	await see(page, 'Saved example report.');
	assert.deepEqual(await api.get(`/products/${id}/codec/examples`), { examples: [{ name: 'report', payload_hex: REPORT }] });
	await page.reload();
	const example = page.getByRole('listitem').filter({ hasText: 'report' });
	await expectText(example, spaced(REPORT));
	assert.equal(await source.inputValue(), meter.script, 'the uploaded codec is not in the editor after a reload');
	await page.getByRole('button', { name: 'Decode example report' }).click();
	assert.deepEqual(await shownDecoded(page), DECODED);
	assert.equal(await page.getByLabel('Payload (hex)').inputValue(), spaced(REPORT));

	await page.getByRole('button', { name: 'Remove example report' }).click();
	await see(page, 'Removed report.');
	await see(page, 'No examples yet.');
	assert.deepEqual(await api.get(`/products/${id}/codec/examples`), { examples: [] });
});

suite.test('the declarative layout: JSON errors at their line, a rule broken, upload, and it decodes as the script does', async ({ page, cp, api, daemon, screenshot }) => {
	const id = 'wm-decl';
	await api.createProduct({ product_id: id, name: 'Meter (layout)', service_capabilities: meter.model });
	const layout = JSON.stringify(JSON.parse(meter.layout), null, 2);

	cp.allowHttpError([400, 404], new RegExp(`/products/${id}/codec$`));
	await signIn(page, daemon, `#/products/${id}/codec`);
	await see(page, 'No codec uploaded');
	await page.getByLabel('Kind').selectOption({ label: 'Declarative layout (JSON)' });
	const source = page.getByLabel('Codec source');

	/* Not JSON (a comma missing at the end of line 3): caught before upload, at its line. */
	const lines = layout.split('\n');
	assert.match(lines[2], /,$/);
	const notJson = [...lines.slice(0, 2), lines[2].replace(/,$/, ''), ...lines.slice(3)].join('\n');
	let uploads = 0;
	page.on('request', (r) => { if (r.method() === 'PUT' && r.url().endsWith('/codec')) uploads += 1; });
	await source.fill(notJson);
	await page.getByRole('button', { name: 'Upload codec' }).click();
	/* V8 names the place where the comma was missing: the start of line 4. */
	await see(page, /^Line 4: The layout is not JSON/);
	assert.equal(uploads, 0, 'a layout that is not JSON was sent');

	/* JSON that breaks a layout rule: the API's error, naming the place in the layout. */
	const bad = JSON.parse(meter.layout);
	bad.messages[0].fields[1].type = 'uint12';
	const badText = JSON.stringify(bad, null, 2);
	const refused = await api.put(`/products/${id}/codec`, { kind: 'declarative', source: badText }).catch((e) => e);
	assert.equal(refused.status, 400);
	assert.match(refused.errorMsg, /messages\[0\]\.fields\[1\]/);
	await source.fill(badText);
	await page.getByRole('button', { name: 'Upload codec' }).click();
	await see(page, refused.errorMsg);

	/* The meter's layout. */
	await source.fill(layout);
	await page.getByRole('button', { name: 'Upload codec' }).click();
	await see(page, /^Uploaded/, { timeout: TIMEOUTS.device });
	await expectText(page.getByRole('status').filter({ hasText: 'codec uploaded' }), /ACTIVE\s+Declarative layout \(JSON\) codec uploaded/);
	const stored = await api.get(`/products/${id}/codec`);
	assert.equal(stored.kind, 'declarative');
	assert.deepEqual(JSON.parse(stored.source), JSON.parse(meter.layout));

	/* It decodes and encodes as the JavaScript codec of the same meter does. */
	await page.getByLabel('Test the uploaded codec instead of the editor\'s').check();
	assert.deepEqual(await decode(page, REPORT), DECODED);
	assert.equal(await encode(page, COMMAND), setIntervalHex(COMMAND.mid, COMMAND.paras.interval));
	await screenshot('layout');

	/* The console's own water-meter example is that meter too. */
	await page.getByLabel('Test the uploaded codec instead of the editor\'s').uncheck();
	/* The editor holds the uploaded layout, which has "messages" too: wait for the file's
	 * own text, or the payload typed next lands in the editor the insert focuses. */
	await page.getByRole('button', { name: 'Insert the water-meter example' }).click();
	await waitUntil(async () => (await source.inputValue()) === meter.layout, { message: 'the example was not inserted' });
	assert.deepEqual(await decode(page, REPORT), DECODED);
	assert.equal(await encode(page, COMMAND), setIntervalHex(COMMAND.mid, COMMAND.paras.interval));
	await page.getByLabel('Kind').selectOption('js');
	await page.getByRole('button', { name: 'Insert the water-meter example' }).click();
	await waitUntil(async () => (await source.inputValue()) === meter.script, { message: 'the example was not inserted' });
	assert.deepEqual(await decode(page, REPORT), DECODED);
	assert.equal(await encode(page, COMMAND), setIntervalHex(COMMAND.mid, COMMAND.paras.interval));
});
