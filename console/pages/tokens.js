/*
 * Tokens: the project's API tokens — listed (name, id, created, last used — to the minute —
 * and expires; never a secret,
 * the daemon keeps only hashes), created with a name and an expiry (the token shown once,
 * with a copy button), revoked after a confirmation. A revocation is effective at once:
 * a tab signed in with that token is signed out on its next call. The token this tab
 * uses is marked; revoking it signs this tab out too.
 */
import * as api from '../api.js';
import { h, put, field, fmtTime } from '../dom.js';
import { errorBox } from '../widgets/error-box.js';
import { outcome } from '../widgets/outcome.js';
import { confirmDialog } from '../widgets/confirm.js';
import { secretOnce } from '../widgets/secret.js';

const DAY = 86400;
const EXPIRIES = [
	['', 'Never'],
	[String(DAY), '1 day'],
	[String(7 * DAY), '7 days'],
	[String(30 * DAY), '30 days'],
	[String(90 * DAY), '90 days'],
	[String(365 * DAY), '1 year'],
];

/* Whether an expiry ("yyyyMMddTHHmmssZ") has passed. */
function expired(t) {
	const m = typeof t === 'string' && /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(t);
	return m ? Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +m[6]) <= Date.now() : false;
}

export default async function tokensPage(root, ctx) {
	ctx.setTitle('Tokens');
	const listErrors = errorBox();
	const tbody = h('tbody');
	const revoked = outcome();
	const secrets = h('div');
	const table = h('table', { class: 'stack' },
		h('caption', {}, 'API tokens of the project'),
		h('thead', {}, h('tr', {}, ['Name', 'ID', 'Created', 'Last used', 'Expires', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
		tbody);

	async function load() {
		try {
			const res = await api.tokens.list(ctx.signal);
			listErrors.clear();
			put(tbody);
			for (const t of res.tokens || []) {
				const name = t.name || 'unnamed';
				const label = t.name ? `token ${t.name} (${t.token_id})` : `token ${t.token_id}`;
				tbody.append(h('tr', {},
					h('td', { 'data-label': 'Name' }, t.name ? t.name : h('span', { class: 'muted' }, name),
						t.current ? h('span', { class: 'muted' }, ' — this tab\'s') : null),
					h('td', { 'data-label': 'ID' }, h('span', { class: 'mono' }, t.token_id)),
					h('td', { 'data-label': 'Created' }, fmtTime(t.create_time)),
					h('td', { 'data-label': 'Last used' }, t.last_used_time ? fmtTime(t.last_used_time) : 'never'),
					h('td', { 'data-label': 'Expires' }, t.expire_time ? `${fmtTime(t.expire_time)}${expired(t.expire_time) ? ' (expired)' : ''}` : 'never'),
					h('td', { 'data-label': 'Actions' }, h('button', { type: 'button', class: 'danger secondary small', 'aria-label': `Revoke ${label}`, onclick: () => revoke(t, label) }, 'Revoke'))));
			}
			if (!(res.tokens || []).length) tbody.append(h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No tokens.')));
		} catch (err) {
			if (!err.aborted) listErrors.show(err, 'Could not load the tokens');
		}
	}

	async function revoke(t, label) {
		const ok = await confirmDialog({
			title: 'Revoke this token?',
			message: t.current
				? `${label} is the token this tab is signed in with: the console signs out. Anything else using it is refused at once, its event streams closed.`
				: `Anything using ${label} is refused at once — a console signed in with it is signed out, its event streams closed. This cannot be undone.`,
			confirm: 'Revoke token',
		});
		if (!ok) return;
		const done = await revoked.run(() => api.tokens.revoke(t.token_id), { pending: 'Revoking the token…', doneText: () => `Revoked ${label}.` });
		if (done !== undefined) load(); // when it was this tab's, the 401 signs out
	}

	// The create form.
	const name = h('input', { type: 'text', maxlength: 64, autocomplete: 'off', spellcheck: 'false', placeholder: 'e.g. ci, dashboard' });
	const expires = h('select', {}, EXPIRIES.map(([v, text]) => h('option', { value: v }, text)));
	const created = outcome();
	const submit = h('button', { type: 'submit' }, 'Create token');
	const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'new-token-h' },
		h('h2', { id: 'new-token-h' }, 'New token'),
		field('Name', name, 'optional: what the token is for (at most 64 bytes)'),
		field('Expires', expires, 'after this, the token is refused (401 "X-Auth-Token has expired")'),
		h('div', { class: 'actions' }, submit),
		created.el,
		secrets);
	form.addEventListener('submit', async (e) => {
		e.preventDefault();
		const body = {};
		if (name.value.trim()) body.name = name.value.trim();
		if (expires.value) body.expires_in = Number(expires.value);
		submit.disabled = true;
		put(secrets);
		const t = await created.run(() => api.tokens.create(body), {
			pending: 'Creating the token…',
			doneText: (tok) => `Created token ${tok.token_id}.`,
		});
		submit.disabled = false;
		if (!t) return;
		name.value = '';
		put(secrets, secretOnce({
			secret: t.token,
			title: t.name ? `Token ${t.name}` : `Token ${t.token_id}`,
			label: 'API token',
			copyLabel: 'Copy token',
			note: 'Paste it where it is to be used (X-Auth-Token, or this console\'s sign-in).',
			onDismiss: () => submit.focus(),
		}));
		load();
	});

	root.append(
		h('div', { class: 'page-head' }, h('h1', {}, 'Tokens')),
		h('p', { class: 'muted' }, 'Each token gives its holder the whole project. The daemon keeps only a hash of each: a token is shown once, when it is created. The daemon\'s host can also manage them: lwm2md token list|create|revoke --db PATH.'),
		h('section', { class: 'card', 'aria-label': 'Token list' }, listErrors.el, h('div', { class: 'table-scroll' }, table), revoked.el),
		form);
	load();
}
