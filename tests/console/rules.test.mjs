/*
 * rules: forwarding rules in the console — a rule refused for its URL, two rules created
 * (an application that takes the events, one that fails), each listed with what it
 * delivered, failed and still holds once a device comes online; the overview's push
 * totals and device counts agreeing with the statistics; then both rules deleted.
 */
import assert from 'node:assert/strict';
import http from 'node:http';

import { consoleTests, expectText, expectVisible, newNodeId, see, seeNo, waitUntil } from './harness.mjs';
import { signIn, viewShot } from './walkthrough.mjs';

const suite = consoleTests();

/* An application's endpoint on a free loopback port, answering every POST with status;
 * resolves to {url, bodies, close()}. */
async function endpoint(status) {
	const bodies = [];
	const server = http.createServer((req, res) => {
		let text = '';
		req.setEncoding('utf8');
		req.on('data', (s) => { text += s; });
		req.on('end', () => {
			try {
				bodies.push(JSON.parse(text));
			} catch {
				bodies.push(text);
			}
			res.writeHead(status, { 'Content-Type': 'text/plain' });
			res.end(status < 300 ? 'ok' : 'not now');
		});
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		url: `http://127.0.0.1:${server.address().port}/iot`,
		bodies,
		close: () => new Promise((resolve) => {
			server.closeAllConnections();
			server.close(resolve);
		}),
	};
}

/* The cells of a rule's row, by column name. */
async function ruleRow(page, url) {
	const row = page.getByRole('row').filter({ hasText: url });
	await expectVisible(row);
	const cells = await row.getByRole('cell').allInnerTexts();
	const heads = await page.getByRole('columnheader').allInnerTexts();
	return Object.fromEntries(heads.map((h, i) => [h, cells[i]]));
}

suite.test('forwarding rules: created, listed with deliveries, failures and backlog, and deleted', async ({ page, cp, api, daemon, sim, screenshot }) => {
	const app = await endpoint(200);
	const down = await endpoint(503);
	try {
		/* What the API says to a URL with credentials in it. */
		const badUrl = down.url.replace('//', '//user:secret@');
		const refused = await api.post('/forwarding-rules', { url: badUrl }).catch((e) => e);
		assert.equal(refused.status, 400);

		cp.allowHttpError(400, '/forwarding-rules');
		await signIn(page, daemon, '#/rules');
		await expectVisible(page.getByRole('heading', { name: 'Forwarding rules', level: 1 }));
		await see(page, 'No forwarding rules');

		const form = page.getByRole('form', { name: 'New rule' });
		const url = form.getByLabel('Endpoint URL');
		await url.fill(badUrl);
		await form.getByRole('button', { name: 'Create rule' }).click();
		await see(form, `400 — ${refused.errorMsg}`);
		await waitUntil(async () => await url.getAttribute('aria-invalid') === 'true' &&
			await url.evaluate((el) => el === document.activeElement), { message: 'the URL is not marked and focused' });
		assert.deepEqual((await api.get('/forwarding-rules')).rules, []);

		/* The application's rule, for every event (as the form proposes)… */
		await url.fill(app.url);
		for (const box of await form.getByRole('checkbox').all())
			assert.ok(await box.isChecked(), 'an event is not proposed');
		await form.getByRole('button', { name: 'Create rule' }).click();
		await see(form, new RegExp(`^Created rule \\S+ for ${app.url}`));
		assert.equal(await url.getAttribute('aria-invalid'), null);
		/* …and the failing one, for status changes only. */
		await url.fill(down.url);
		for (const other of ['device.property/report', 'device.message/report', 'device.command.status/update'])
			await form.getByRole('checkbox', { name: other }).uncheck();
		await form.getByRole('button', { name: 'Create rule' }).click();
		await see(form, `for ${down.url}`);

		const rules = (await api.get('/forwarding-rules')).rules;
		assert.equal(rules.length, 2);
		const fresh = await ruleRow(page, app.url);
		assert.equal(fresh.Events, rules.find((r) => r.url === app.url).events.join(', '));
		assert.deepEqual([fresh.Delivered, fresh.Failed, fresh.Dropped, fresh.Backlog, fresh.Breaker], ['0', '0', '0', '0', 'closed']);
		assert.equal((await ruleRow(page, down.url)).Events, 'device.status/update');

		/* A device comes online: its ONLINE goes to both endpoints. */
		await api.createProduct({ product_id: 'wm-rules' });
		const device = await api.createDevice({ node_id: newNodeId(), product_id: 'wm-rules' });
		await sim({ device });
		await waitUntil(() => app.bodies.some((b) => b.resource === 'device.status' &&
			b.notify_data.header.device_id === device.device_id), { message: 'the application got no ONLINE' });
		await waitUntil(() => down.bodies.length >= 1, { message: 'the failing endpoint got nothing' });

		/* The list says so (a person presses Refresh rather than wait for its 10 s). */
		const refresh = page.getByRole('button', { name: 'Refresh' });
		let ok, failing;
		await waitUntil(async () => {
			await refresh.click();
			await expectVisible(refresh); // enabled again: loaded
			ok = await ruleRow(page, app.url);
			failing = await ruleRow(page, down.url);
			return ok.Delivered === String(app.bodies.length) && Number(failing.Failed) >= 1;
		}, { interval: 500, message: `the rules' stats did not show the deliveries (${JSON.stringify({ ok, failing })})` });
		assert.deepEqual([ok.Failed, ok.Backlog, ok.Breaker], ['0', '0', 'closed']);
		assert.equal(failing.Delivered, '0');
		assert.equal(failing.Backlog, '1', 'the ONLINE the failing endpoint refused is not in its backlog');
		const stats = (await api.get('/forwarding-rules')).rules.find((r) => r.url === down.url).stats;
		assert.ok(Number(failing.Failed) <= stats.failed, 'the page shows more failures than the API');
		await screenshot('rules');
		await viewShot(page, 'rules');

		/* The overview's totals are the statistics' (push delivered is stable by now). */
		await page.getByRole('link', { name: 'Overview' }).click();
		const st = await api.get('/statistics');
		const devices = page.getByRole('region', { name: 'Devices' });
		await expectText(devices, new RegExp(`Total\\s+${st.devices.total}\\b`));
		await expectText(devices, new RegExp(`Online\\s+${st.devices.online}\\b`));
		assert.equal(st.devices.online, 1);
		const push = page.getByRole('region', { name: 'Push to applications' });
		await expectText(push, new RegExp(`Delivered\\s+${st.counters.push.delivered}\\b`));
		assert.equal(st.counters.push.delivered, app.bodies.length);
		await expectText(push, /Backlog\s+1\b/);
		await viewShot(page, 'overview');
		await push.getByRole('link', { name: 'Forwarding rules' }).click();

		/* Deleted, each after its confirmation; Cancel keeps it. */
		await page.getByRole('button', { name: `Delete rule ${down.url}` }).click();
		const dialog = page.getByRole('dialog', { name: 'Delete this forwarding rule?' });
		await dialog.getByRole('button', { name: 'Cancel' }).click();
		await expectVisible(page.getByRole('row').filter({ hasText: down.url }));
		await page.getByRole('button', { name: `Delete rule ${down.url}` }).click();
		await dialog.getByRole('button', { name: 'Delete rule' }).click();
		await see(page, `Deleted the rule for ${down.url}.`);
		await seeNo(page.getByRole('table'), down.url);
		await page.getByRole('button', { name: `Delete rule ${app.url}` }).click();
		await dialog.getByRole('button', { name: 'Delete rule' }).click();
		await see(page, 'No forwarding rules');
		assert.deepEqual((await api.get('/forwarding-rules')).rules, []);
	} finally {
		await app.close();
		await down.close();
	}
});
