/*
 * tokens: the project's API tokens in the console, as a person manages them — the list
 * (this tab's token marked, no secret anywhere), a token created with a name and an
 * expiry and shown once with a copy button, a second browser signed in with it, then the
 * token revoked after a confirmation: the second browser is signed out on its next call
 * with the daemon's reason, and cannot sign in with it again.
 */
import assert from 'node:assert/strict';

import { PHONE, consoleTests, expectVisible, openPage, see, seeNo, waitUntil } from './harness.mjs';
import { signIn } from './walkthrough.mjs';

const suite = consoleTests();

suite.test('tokens: created and shown once, used by another browser, revoked — that browser is signed out', async ({ page, api, daemon, screenshot }) => {
	const before = await api.get('/tokens');
	assert.equal(before.count, 1);
	const mine = before.tokens[0].token_id;

	await signIn(page, daemon, '#/');
	await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tokens' }).click();
	await expectVisible(page.getByRole('heading', { name: 'Tokens', level: 1 }));
	const list = page.getByRole('region', { name: 'Token list' });
	await see(list, mine);
	await see(list, 'this tab\'s');
	await seeNo(list, daemon.token);

	/* A token for a dashboard, for 7 days: shown once, copied. */
	const form = page.getByRole('form', { name: 'New token' });
	await form.getByLabel('Name').fill('dashboard');
	await form.getByLabel('Expires').selectOption({ label: '7 days' });
	await form.getByRole('button', { name: 'Create token' }).click();
	const shown = form.getByRole('region', { name: 'API token' });
	await expectVisible(shown);
	await see(shown, 'Shown only now');
	const secretBox = shown.getByLabel('Token dashboard');
	const token = await secretBox.inputValue();
	assert.match(token, /^[0-9a-f]{64}$/);
	await shown.getByRole('button', { name: 'Copy token' }).click();
	await see(shown, /Copied\.|select the text and copy it/i);
	await screenshot('created');

	const created = (await api.get('/tokens')).tokens.find((t) => t.name === 'dashboard');
	assert.ok(created, 'the API does not list the new token');
	assert.ok(created.expire_time, 'the token has no expiry');
	const row = list.getByRole('row').filter({ hasText: 'dashboard' });
	await expectVisible(row);
	await see(row, created.token_id);
	/* Its expiry as the console writes times; not used yet. */
	const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(created.expire_time);
	await see(row, `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]}Z`);
	assert.equal(created.last_used_time, null);
	await shown.getByRole('button', { name: 'I have saved it' }).click();
	await waitUntil(async () => await shown.count() === 0, { message: 'the token is still shown' });
	await seeNo(page, token);

	/* Someone else signs in with it, in a browser of their own. */
	const other = await openPage(suite.browser, daemon, { name: 'other' });
	try {
		const op = other.page;
		await op.goto('/console/#/products');
		await op.getByLabel('API token').fill(token);
		await op.getByRole('button', { name: 'Sign in' }).click();
		await expectVisible(op.getByRole('navigation', { name: 'Main' }));
		await expectVisible(op.getByRole('heading', { name: 'Products', level: 1 }));
		other.assertNoProblems();
		assert.ok((await api.get('/tokens')).tokens.find((t) => t.name === 'dashboard').last_used_time, 'its use is not recorded');

		/* Revoked here, after a confirmation (Cancel first: nothing happens). */
		await row.getByRole('button', { name: /^Revoke token dashboard/ }).click();
		const dialog = page.getByRole('dialog', { name: 'Revoke this token?' });
		await expectVisible(dialog);
		await dialog.getByRole('button', { name: 'Cancel' }).click();
		assert.equal((await api.get('/tokens')).count, 2);
		await row.getByRole('button', { name: /^Revoke token dashboard/ }).click();
		await see(dialog, 'signed out');
		await dialog.getByRole('button', { name: 'Revoke token' }).click();
		await see(page, 'Revoked token dashboard');
		await waitUntil(async () => await row.count() === 0, { message: 'the revoked token is still listed' });
		assert.equal((await api.get('/tokens')).count, 1);

		/* The other browser's next call is refused: it is signed out, told why. */
		other.allowHttpError(401);
		await op.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Devices' }).click();
		await expectVisible(op.getByRole('heading', { name: 'Sign in' }));
		await see(op, 'no longer accepts the token');
		await see(op, 'X-Auth-Token is not valid');
		assert.equal(await op.getByRole('navigation', { name: 'Main' }).count(), 0);
		/* …and cannot sign in with it again. */
		await op.getByLabel('API token').fill(token);
		await op.getByRole('button', { name: 'Sign in' }).click();
		await see(op, 'The token was refused');
		await other.screenshot('signed-out');
		other.takeProblems('http', (p) => p.status === 401);
		other.assertNoProblems();
	} finally {
		await other.close();
	}

	/* This tab still works with its own token. */
	await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Products' }).click();
	await expectVisible(page.getByRole('heading', { name: 'Products', level: 1 }));
});

suite.test('the tokens page and a new token fit a phone\'s width', { viewport: PHONE }, async ({ page, daemon, screenshot }) => {
	await signIn(page, daemon, '#/tokens');
	await expectVisible(page.getByRole('heading', { name: 'Tokens', level: 1 }));
	const form = page.getByRole('form', { name: 'New token' });
	await form.getByLabel('Name').fill('phone');
	await form.getByRole('button', { name: 'Create token' }).click();
	await expectVisible(form.getByRole('region', { name: 'API token' }));
	await see(page.getByRole('region', { name: 'Token list' }), 'phone');
	assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= PHONE.width, 'the page is wider than the phone');
	await screenshot('phone');
});
