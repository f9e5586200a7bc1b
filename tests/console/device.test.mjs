/*
 * device: one device's page as a person uses it, with lwm2m-sim playing the water meter —
 * the live registration; Read of /3/0 showing what the simulator serves, with the CoAP
 * code; Write of a writable resource read back; Observe with notifications arriving, then
 * Cancel; a command of the model with typed paras, ending SUCCESSFUL live; the shadow's
 * reported values, and a desired value delivered when the device connects.
 */
import assert from 'node:assert/strict';

import { consoleTests, expectText, expectVisible, newNodeId, see, seeNo, waitUntil } from './harness.mjs';
import { meterProduct, randomInt, signIn, simTree, viewportShot } from './device-setup.mjs';

const suite = consoleTests();
const PRODUCT = 'pagemeter';

let productMade = null;
function product(api) {
	productMade = productMade || meterProduct(api, PRODUCT);
	return productMade;
}

/* The value beside a term of a card's list ("Binding" → "U"). */
function prop(region, term) {
	return region.locator('dt').filter({ hasText: new RegExp(`^${term}$`) }).locator('xpath=following-sibling::dd[1]');
}

/* Opens the device's page from the devices list, as a person does. */
async function openDevice(page, daemon, dev) {
	await signIn(page, daemon, `#/devices?node_id_prefix=${dev.node_id}`);
	await page.getByRole('link', { name: dev.node_id, exact: true }).click();
	await expectVisible(page.getByRole('heading', { name: `Device ${dev.device_name}`, level: 1 }));
}

suite.test('the live registration; Read, Write and Observe of the device\'s resources', async ({ page, cp, api, daemon, sim, screenshot }) => {
	await product(api);
	const dev = await api.createDevice({ node_id: newNodeId(), product_id: PRODUCT, device_name: 'Cellar', auth_info: { secure_access: true } });
	/* What the simulator serves is the test's choice: a manufacturer of its own. */
	const manufacturer = `Acme Meters ${randomInt(1000, 9999)}`;
	const lifetime = randomInt(300, 900);
	await sim({
		device: dev, meter: true,
		args: ['--tree', simTree([{ bn: '/3/0/', n: '0', vs: manufacturer }]), '--lifetime', String(lifetime), '--notify-ms', '400'],
	});
	await openDevice(page, daemon, dev);

	/* The registration, as the daemon has it. */
	const live = (await api.getDevice(dev.device_id)).lwm2m;
	const registration = page.getByRole('region', { name: 'Registration' });
	await expectText(prop(registration, 'Endpoint'), dev.node_id);
	await expectText(prop(registration, 'Registration ID'), live.registration_id);
	assert.equal(live.transport, 'dtls');
	assert.match(live.cipher_suite, /^TLS-PSK-WITH-AES-128-/);
	await expectText(prop(registration, 'Transport'), `dtls · ${live.cipher_suite}`);
	await expectText(prop(registration, 'Binding'), live.binding);
	await expectText(prop(registration, 'Lifetime'), `${lifetime} s`);
	await expectText(prop(registration, 'LwM2M version'), live.lwm2m_version);
	await expectText(prop(registration, 'Last seen'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \((just now|\d+ s ago)\)$/);
	await expectText(prop(registration, 'Queue mode'), 'no');
	await screenshot('registration');
	await viewportShot(cp, 'registration');

	/* Read /3/0: the simulator's values, with the CoAP code. */
	await page.getByText('/3 Device').click();
	const inst = page.getByRole('region', { name: 'Instance /3/0' });
	await inst.getByRole('button', { name: 'Read instance /3/0' }).click();
	await expectText(inst.getByRole('status').first(), 'Read /3/0: answered');
	await see(inst, /^Device answered 2\.05/);
	await see(inst, `/3/0/0 = ${manufacturer}`);
	const manuf = inst.getByRole('listitem').filter({ hasText: 'Manufacturer' }).first();
	await see(manuf, manufacturer);
	await viewportShot(cp, 'read-3-0', inst);

	/* Write Timezone, then read it back from the device. */
	const zone = `Europe/Test${randomInt(100, 999)}`;
	const tz = inst.getByRole('listitem').filter({ hasText: '/3/0/15' });
	await tz.getByRole('button', { name: 'Write /3/0/15 Timezone' }).click();
	await tz.getByLabel('New value of Timezone').fill(zone);
	await tz.getByRole('button', { name: 'Write /3/0/15', exact: true }).click();
	await see(tz, /^Device answered 2\.04/);
	await tz.getByRole('button', { name: 'Read /3/0/15 Timezone' }).click();
	await expectText(tz.getByRole('status').first(), 'Read /3/0/15: answered');
	await see(tz, /^Device answered 2\.05/);
	await see(tz, `/3/0/15 = ${zone}`);

	/* Observe the battery level, which the simulator lowers every 400 ms: notifications
	 * arrive and change the value shown, and the observation is listed with its count. */
	const battery = inst.getByRole('listitem').filter({ hasText: '/3/0/9' });
	await battery.getByRole('button', { name: 'Observe /3/0/9 Battery Level' }).click();
	await see(battery, /— observation \d+/);
	const cancel = battery.getByRole('button', { name: 'Cancel observation of /3/0/9 Battery Level' });
	await expectVisible(cancel);
	const value = battery.locator('.res-value');
	const first = Number(await value.innerText());
	assert.ok(Number.isInteger(first), `the observed value is ${first}`);
	await see(battery, /notified #\d+/);
	await waitUntil(async () => Number(await value.innerText()) < first, { message: 'no notification lowered the battery level' });
	const observations = page.locator('table').filter({ has: page.getByRole('columnheader', { name: 'Notifications' }) });
	const obsRow = observations.getByRole('row').filter({ hasText: '/3/0/9' });
	await waitUntil(async () => Number(await obsRow.getByRole('cell').nth(2).innerText()) >= 2,
		{ message: 'the observation list does not count the notifications' });
	await screenshot('observing');

	/* Cancel: the device answers, the observation leaves the list, notifications stop. */
	await cancel.click();
	await expectVisible(battery.getByRole('button', { name: 'Observe /3/0/9 Battery Level' }));
	await waitUntil(async () => (await obsRow.count()) === 0, { message: 'the cancelled observation is still listed' });
	const after = await value.innerText();
	await new Promise((r) => setTimeout(r, 1200));
	assert.equal(await value.innerText(), after, 'notifications still arrive after the cancel');
	const obs = await api.get(`/devices/${dev.device_id}/observations`);
	assert.ok(!obs.observations.some((o) => o.path === '/3/0/9' && !o.cancelled), 'the daemon still observes /3/0/9');
});

suite.test('a command of the model, with typed paras, ends SUCCESSFUL live', async ({ page, cp, api, daemon, sim, screenshot }) => {
	await product(api);
	const dev = await api.createDevice({ node_id: newNodeId(), product_id: PRODUCT, device_name: 'Garage' });
	const meterSim = await sim({ device: dev, meter: true });
	await openDevice(page, daemon, dev);
	const loads = { n: 0 };
	page.on('load', () => { loads.n += 1; });

	const section = page.getByRole('region', { name: 'Commands' });
	await section.getByLabel('Command', { exact: true }).selectOption({ label: 'WaterMeter / SET_INTERVAL' });
	await section.getByLabel('Send', { exact: true }).selectOption('immediately');
	/* The para is typed by the model: out of its range, it is refused before sending. */
	const para = section.getByLabel('interval', { exact: true });
	await para.fill('70000');
	await section.getByRole('button', { name: 'Send command' }).click();
	await see(section, 'must be at most 65535');
	assert.equal(await para.getAttribute('aria-invalid'), 'true');
	assert.equal((await api.get(`/devices/${dev.device_id}/async-commands`)).page.count, 0);

	const interval = randomInt(60, 3600);
	await para.fill(String(interval));
	await section.getByRole('button', { name: 'Send command' }).click();
	const created = await expectText(section.getByRole('status').first(), /Created command \S+ \((PENDING|SENT)\)/);
	const commandId = /Created command (\S+)/.exec(created)[1];

	/* The meter gets the interval and answers; the list follows the statuses live. */
	const line = await meterSim.waitForLine(new RegExp(`^meter command mid=\\d+ interval=${interval}$`));
	const historyOf = (within) => within.getByRole('list', { name: `Statuses of command ${commandId}` });
	await expectText(historyOf(section), /PENDING[\s\S]*SENT[\s\S]*DELIVERED[\s\S]*SUCCESSFUL/);
	const row = section.getByRole('row').filter({ has: historyOf(page) });
	await see(row.getByRole('cell').nth(2), 'SUCCESSFUL');
	await see(row, `{"interval":${interval}}`);
	await see(row, '"result": 1');
	assert.equal(loads.n, 0, 'the page was reloaded');
	await viewportShot(cp, 'command-successful', section);

	const cmd = await api.get(`/devices/${dev.device_id}/async-commands/${commandId}`);
	assert.equal(cmd.status, 'SUCCESSFUL');
	assert.equal(cmd.paras.interval, interval);
	assert.equal(`meter command mid=${cmd.mid} interval=${interval}`, line);
	await screenshot('command');
});

suite.test('the shadow: desired saved while offline, delivered when the meter connects; reported values live', async ({ page, cp, api, daemon, sim, screenshot }) => {
	await product(api);
	const dev = await api.createDevice({ node_id: newNodeId(), product_id: PRODUCT, device_name: 'Attic' });
	await openDevice(page, daemon, dev);
	const shadow = page.getByRole('region', { name: 'Shadow' });
	const row = (name) => shadow.getByRole('row').filter({ has: page.getByRole('rowheader', { name, exact: true }) });
	const cell = (name, col) => row(name).locator(`td[data-label="${col}"]`);
	await see(shadow, 'Nothing reported yet.');
	await expectText(cell('battery', 'Set desired'), 'read-only');

	/* Desired, typed by the model: out of range refused at the field, then saved. */
	const desired = shadow.getByLabel('Desired interval');
	await desired.fill('0');
	await shadow.getByRole('button', { name: 'Save desired of WaterMeter' }).click();
	await see(shadow, 'must be at least 1');
	const interval = randomInt(60, 3600);
	await desired.fill(String(interval));
	await shadow.getByRole('button', { name: 'Save desired of WaterMeter' }).click();
	await see(shadow, /^Saved: the platform sends them/);
	await expectText(cell('interval', 'Desired'), String(interval));
	await see(shadow, /desired changed \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(version 1\)/);
	const commands = page.getByRole('region', { name: 'Commands' });
	const props = commands.getByRole('row').filter({ hasText: 'WaterMeter / $properties' });
	await see(props.getByRole('cell').nth(2), 'PENDING');
	await see(props, `{"interval":${interval}}`);
	await viewportShot(cp, 'shadow-desired', shadow);

	/* The meter connects: it gets the interval, reports it, and reports battery and flow.
	 * The page follows: reported values with their time, desired cleared, the command
	 * SUCCESSFUL. */
	const battery = randomInt(20, 80);
	const meterSim = await sim({ device: dev, meter: true, args: ['--battery', String(battery), '--report-every', '700'] });
	await meterSim.waitForLine(new RegExp(`^meter interval report interval=${interval}$`));
	await expectText(cell('interval', 'Reported'), String(interval));
	await expectText(cell('interval', 'Desired'), '—');
	await see(props.getByRole('cell').nth(2), 'SUCCESSFUL');
	await expectText(cell('battery', 'Reported'), /^\d+$/);
	const report = await meterSim.waitForLine(/^meter report seq=1 /);
	/* The values shown are a report the meter made (its battery starts where the test
	 * said), and the time beside them is now's. */
	await waitUntil(async () => {
		const b = await cell('battery', 'Reported').innerText();
		const f = await cell('flow', 'Reported').innerText();
		return meterSim.output.text.includes(`battery=${b} flow=${f}\n`);
	}, { message: 'the reported battery and flow are no report of the meter' });
	assert.match(meterSim.output.text, new RegExp(`seq=0 battery=${battery} `));
	assert.ok(report);
	const head = await expectText(shadow.locator('p.note').first(), /^Reported \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(version \d+\)/);
	const [, ts] = /^Reported (\S+ \S+Z)/.exec(head);
	const reportedAt = Date.parse(ts.replace(' ', 'T'));
	assert.ok(Math.abs(Date.now() - reportedAt) < 120_000, `the report time ${ts} is not now`);
	await screenshot('shadow');
	await viewportShot(cp, 'shadow-delivered', shadow);

	const sh = await api.get(`/devices/${dev.device_id}/shadow`);
	assert.equal(sh.shadow[0].reported.properties.interval, interval);
	assert.equal(sh.shadow[0].desired.properties.interval, undefined);
});

suite.test('a sleeping queue-mode device: shown asleep, a Read held until it wakes', { ownDaemon: true, daemonArgs: ['--queue-window', '1'] }, async ({ page, api, daemon, sim, screenshot }) => {
	await api.createProduct({ product_id: 'sleeper' });
	const dev = await api.createDevice({ node_id: newNodeId(), product_id: 'sleeper', device_name: 'Sleeper' });
	/* It listens 300 ms after each message, and wakes with an Update every 3 s; the
	 * daemon holds calls once it has heard nothing for a second. */
	await sim({ device: dev, args: ['--binding', 'UQ', '--sleep-after', '300', '--wake-every', '3000'] });
	await waitUntil(async () => (await api.getDevice(dev.device_id)).lwm2m.asleep, { message: 'the device never fell asleep' });
	await openDevice(page, daemon, dev);
	const registration = page.getByRole('region', { name: 'Registration' });
	await expectText(prop(registration, 'Binding'), 'UQ');
	await expectText(prop(registration, 'Queue mode'), 'yes · asleep: calls are held until it wakes');
	await see(page.getByRole('region', { name: 'Identity' }), 'asleep');

	await page.getByText('/3 Device').click();
	const battery = page.getByRole('region', { name: 'Instance /3/0' }).getByRole('listitem').filter({ hasText: '/3/0/9' });
	await battery.getByRole('button', { name: 'Read /3/0/9 Battery Level' }).click();
	await see(battery, /The device is asleep \(queue mode\): the call is held until it next talks, for up to 30 s\./);
	await see(battery, /^Device answered 2\.05 as \S+ — held \d+\.\d s until the device woke$/);
	await see(battery, /^\/3\/0\/9 = \d+/);
	await screenshot('held');
	/* It woke with an Update: the page heard it, and shows it awake until it sleeps again. */
	await see(page.getByRole('log'), /update/);
});
