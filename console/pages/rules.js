/*
 * Forwarding rules: where the project's events are pushed (HTTP POSTs to applications),
 * each rule with its deliveries, failures, drops, backlog and circuit breaker; create
 * and delete. The list refreshes itself every 10 s while the page is open.
 */
import * as api from '../api.js';
import { h, put, field, fmtTime } from '../dom.js';
import { errorBox } from '../widgets/error-box.js';
import { outcome } from '../widgets/outcome.js';
import { badge } from '../widgets/badge.js';
import { confirmDialog } from '../widgets/confirm.js';

const EVENTS = [
	['device.property/report', 'properties reported (after the codec and the model)'],
	['device.message/report', "a device's LwM2M Send"],
	['device.command.status/update', 'every status change of a command'],
	['device.status/update', 'ONLINE on Register, OFFLINE on De-register or expiry'],
];
const REFRESH_MS = 10000;

function num(v) {
	return typeof v === 'number' ? v.toLocaleString('en') : '—';
}

export default async function rulesPage(root, ctx) {
	ctx.setTitle('Forwarding rules');
	const listErrors = errorBox();
	const tbody = h('tbody');
	const updated = h('span', { class: 'muted', role: 'status' });
	const deleted = outcome();
	const refresh = h('button', { type: 'button', class: 'secondary' }, 'Refresh');
	const table = h('table', { class: 'stack' },
		h('caption', {}, 'Rules of the project, with what each delivered'),
		h('thead', {}, h('tr', {}, ['URL', 'Events', 'Delivered', 'Failed', 'Dropped', 'Backlog', 'Breaker', 'Created', 'Actions'].map((t) =>
			h('th', { scope: 'col', class: ['Delivered', 'Failed', 'Dropped', 'Backlog'].includes(t) ? 'num' : undefined }, t)))),
		tbody);

	async function load() {
		refresh.disabled = true;
		try {
			const res = await api.rules.list(ctx.signal);
			listErrors.clear();
			put(tbody);
			const rules = res.rules || [];
			for (const r of rules) {
				const st = r.stats;
				const cells = [
					['URL', h('span', { class: 'mono' }, r.url)],
					['Events', (r.events || []).join(', ') || 'all'],
					['Delivered', num(st.delivered)],
					['Failed', num(st.failed)],
					['Dropped', num(st.dropped)],
					['Backlog', num(st.backlog)],
					['Breaker', badge(st.breaker)],
					['Created', fmtTime(r.create_time)],
					['Actions', h('button', { type: 'button', class: 'danger secondary small', 'aria-label': `Delete rule ${r.url}`, onclick: () => remove(r) }, 'Delete')],
				];
				tbody.append(h('tr', {}, cells.map(([label, c]) =>
					h('td', { 'data-label': label, class: ['Delivered', 'Failed', 'Dropped', 'Backlog'].includes(label) ? 'num' : undefined }, c))));
			}
			if (!rules.length) tbody.append(h('tr', {}, h('td', { colspan: 9, class: 'empty' }, 'No forwarding rules: events go nowhere but the events stream.')));
			updated.textContent = `Updated ${new Date().toISOString().slice(11, 19)}Z`;
		} catch (err) {
			if (!err.aborted) listErrors.show(err, 'Could not load the rules');
		} finally {
			refresh.disabled = false;
		}
	}

	async function remove(r) {
		const ok = await confirmDialog({
			title: 'Delete this forwarding rule?',
			message: `${r.url} gets no new events. Events it already queued are still delivered.`,
			confirm: 'Delete rule',
		});
		if (!ok) return;
		const done = await deleted.run(() => api.rules.remove(r.rule_id), { pending: 'Deleting the rule…', doneText: () => `Deleted the rule for ${r.url}.` });
		if (done !== undefined) load();
	}

	// The create form.
	const url = h('input', { type: 'url', required: true, autocomplete: 'off', spellcheck: 'false', class: 'mono', placeholder: 'https://app.example.com/iot' });
	const boxes = EVENTS.map(([name, what]) => {
		const box = h('input', { type: 'checkbox', value: name, checked: true, id: `ev-${name.replace(/[^a-z]/g, '-')}` });
		return { box, el: h('div', { class: 'check' }, box, h('label', { for: box.id }, h('span', { class: 'mono' }, name), h('span', { class: 'muted' }, ` — ${what}`))) };
	});
	const created = outcome();
	const submit = h('button', { type: 'submit' }, 'Create rule');
	const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'new-rule-h' },
		h('h2', { id: 'new-rule-h' }, 'New rule'),
		field('Endpoint URL', url, 'http:// or https://; a loopback, private or link-local address needs the daemon started with --push-allow-private'),
		h('fieldset', {}, h('legend', {}, 'Events to push'), boxes.map((b) => b.el)),
		h('div', { class: 'actions' }, submit),
		created.el);
	form.addEventListener('submit', async (e) => {
		e.preventDefault();
		url.removeAttribute('aria-invalid');
		const events = boxes.filter((b) => b.box.checked).map((b) => b.box.value);
		if (!events.length) {
			created.run(() => Promise.reject(new Error('choose at least one event')));
			return;
		}
		submit.disabled = true;
		const r = await created.run(() => api.rules.create({ url: url.value.trim(), events }), {
			pending: 'Creating the rule…',
			doneText: (rule) => `Created rule ${rule.rule_id} for ${rule.url}.`,
			error: (err) => {
				if (err.field === 'url' || /url/i.test(err.message)) {
					url.setAttribute('aria-invalid', 'true');
					url.focus();
				}
				return null;
			},
		});
		submit.disabled = false;
		if (r) {
			url.value = '';
			load();
		}
	});

	refresh.addEventListener('click', load);
	root.append(
		h('div', { class: 'page-head' }, h('h1', {}, 'Forwarding rules'), updated, refresh),
		h('p', { class: 'muted' }, 'Each rule POSTs the events it names to an application, as IoTDA data forwarding does; delivery is at least once, retried with back-off, and a failing endpoint opens the rule\'s circuit breaker.'),
		h('section', { class: 'card', 'aria-label': 'Rule list' }, listErrors.el, h('div', { class: 'table-scroll' }, table), deleted.el),
		form);
	load();
	const timer = setInterval(load, REFRESH_MS);
	ctx.signal.addEventListener('abort', () => clearInterval(timer));
}
