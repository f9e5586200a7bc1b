/*
 * The device page's commands: create one from the model's commands, each para an input
 * typed by the model; and the device's latest commands, newest first, each with every
 * status it went through — from its stored times, then from the `command` events as they
 * happen — so a person watches PENDING → SENT → DELIVERED → SUCCESSFUL.
 */
import * as api from '../api.js';
import { h, put, field, uid, fmtTime, fmtMs } from '../dom.js';
import { outcome } from '../widgets/outcome.js';
import { errorBox } from '../widgets/error-box.js';
import { valueInput } from '../widgets/value-input.js';
import { badge } from '../widgets/badge.js';
import { jsonView } from '../widgets/json-view.js';

const SHOWN = 50;

/* The statuses a stored command went through, from its times. */
function historyOf(c) {
	const hist = [{ status: 'PENDING', at: fmtTime(c.created_time) }];
	if (c.sent_time) hist.push({ status: 'SENT', at: fmtTime(c.sent_time) });
	if (c.delivered_time) hist.push({ status: 'DELIVERED', at: fmtTime(c.delivered_time) });
	if (!['PENDING', 'SENT', 'DELIVERED'].includes(c.status)) hist.push({ status: c.status, at: c.response_time ? fmtTime(c.response_time) : '' });
	return hist;
}

export function commandsSection(deviceId, caps, signal) {
	const cmds = [];
	for (const svc of caps) for (const c of svc.commands || []) cmds.push({ svc, c });

	// The form.
	const choice = h('select', { id: uid('cmd') }, cmds.map(({ svc, c }, i) => h('option', { value: String(i) }, `${svc.service_id} / ${c.command_name}`)));
	const paras = h('div', { class: 'form-row' });
	const strategy = h('select', {}, h('option', { value: 'delay' }, 'delay: when the device next talks'), h('option', { value: 'immediately' }, 'immediately: fail if unreachable'));
	const expire = h('input', { type: 'number', min: 0, max: 172800, step: 1, inputmode: 'numeric', placeholder: '86400' });
	const created = outcome();
	const submit = h('button', { type: 'submit' }, 'Send command');
	let inputs = [];
	const showParas = () => {
		const picked = cmds[Number(choice.value)];
		inputs = ((picked && picked.c.paras) || []).map((p) => ({ p, vi: valueInput(p, { label: p.para_name, required: !!p.required, value: p.default_value }) }));
		put(paras, inputs.length ? inputs.map((x) => x.vi.el) : h('p', { class: 'note' }, 'This command has no paras.'));
	};
	choice.addEventListener('change', showParas);
	const form = cmds.length
		? h('form', { novalidate: true, 'aria-labelledby': 'cmd-new-h' },
			h('h3', { id: 'cmd-new-h' }, 'New command'),
			h('div', { class: 'form-row' }, field('Command', choice), field('Send', strategy), field('Expires after (s)', expire, 'a delayed command waits at most this long')),
			h('fieldset', {}, h('legend', {}, 'Paras'), paras),
			h('div', { class: 'actions' }, submit),
			created.el)
		: h('p', { class: 'muted' }, 'The product model has no commands.');
	if (cmds.length) showParas();

	// The list.
	const tbody = h('tbody');
	const errors = errorBox();
	const note = h('p', { class: 'note' });
	const rows = new Map(); // command_id → {c, hist, tr}

	function render(entry) {
		const { c, hist } = entry;
		const tr = h('tr', { 'data-command': c.command_id },
			h('td', { 'data-label': 'Created' }, fmtTime(c.created_time)),
			h('td', { 'data-label': 'Command' }, h('span', { class: 'mono' }, `${c.service_id} / ${c.command_name}`), h('br'), h('small', { class: 'mono muted' }, JSON.stringify(c.paras))),
			h('td', { 'data-label': 'Status' }, badge(c.status)),
			h('td', { 'data-label': 'History' }, h('ol', { class: 'history plain', 'aria-label': `Statuses of command ${c.command_id}` },
				hist.map((x) => h('li', {}, badge(x.status), ' ', x.at)))),
			h('td', { 'data-label': 'Result' }, c.result ? jsonView(c.result, { label: 'Result' }) : '—'));
		if (entry.tr) entry.tr.replaceWith(tr);
		entry.tr = tr;
		return tr;
	}

	function upsert(c, live) {
		let entry = rows.get(c.command_id);
		if (!entry) {
			entry = { c, hist: historyOf(c), tr: null };
			rows.set(c.command_id, entry);
			const tr = render(entry);
			const empty = tbody.querySelector('td.empty');
			if (empty) empty.parentElement.remove();
			tbody.prepend(tr);
			return;
		}
		// The 201 of a POST can come after the command's first events: never go back.
		if (!live) return;
		const last = entry.hist[entry.hist.length - 1];
		if (live && last.status !== c.status) entry.hist.push({ status: c.status, at: fmtMs(Date.now()) });
		entry.c = c;
		render(entry);
	}

	async function load() {
		try {
			let res = await api.commands.list(deviceId, { limit: SHOWN, offset: 0 }, signal);
			const count = (res.page && res.page.count) || 0;
			if (count > SHOWN) res = await api.commands.list(deviceId, { limit: SHOWN, offset: count - SHOWN }, signal);
			errors.clear();
			rows.clear();
			put(tbody);
			for (const c of res.commands || []) upsert(c, false);
			if (!rows.size) tbody.append(h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No commands yet.')));
			note.textContent = count > SHOWN ? `The latest ${SHOWN} of ${count}.` : '';
		} catch (err) {
			if (!err.aborted) errors.show(err, 'Could not load the commands');
		}
	}

	if (cmds.length) {
		form.addEventListener('submit', async (e) => {
			e.preventDefault();
			const picked = cmds[Number(choice.value)];
			const body = { service_id: picked.svc.service_id, command_name: picked.c.command_name, paras: {}, send_strategy: strategy.value };
			let bad = null;
			for (const { p, vi } of inputs) {
				try {
					const v = vi.read();
					if (v !== undefined) body.paras[p.para_name] = v;
				} catch (err) {
					bad = bad || vi;
				}
			}
			if (bad) {
				bad.control.focus();
				return;
			}
			if (expire.value.trim() !== '') body.expire_time = Number(expire.value);
			submit.disabled = true;
			const c = await created.run(() => api.commands.create(deviceId, body), {
				pending: 'Creating the command…',
				doneText: (x) => `Created command ${x.command_id} (${x.status}); its statuses appear in the list as they change.`,
				error: (err) => {
					const m = /^paras\.([A-Za-z0-9_$-]+)\s*:?\s*(.*)$/.exec(err.message);
					const hit = m && inputs.find((x) => x.p.para_name === m[1]);
					if (hit) {
						hit.vi.showError(m[2] || err.message);
						hit.vi.control.focus();
					}
					return null;
				},
			});
			submit.disabled = false;
			if (c) upsert(c, false);
		});
	}

	load();
	return {
		el: h('div', {}, form,
			h('h3', {}, 'Latest commands'), errors.el, note,
			h('div', { class: 'table-scroll' }, h('table', { class: 'stack commands' },
				h('caption', { class: 'visually-hidden' }, 'Commands of the device, newest first'),
				h('thead', {}, h('tr', {}, ['Created', 'Command', 'Status', 'History', 'Result'].map((t) => h('th', { scope: 'col' }, t)))),
				tbody))),
		load,
		/* A command event: the command as GET shows it. */
		event(c) {
			if (c && c.command_id) upsert(c, true);
		},
	};
}
