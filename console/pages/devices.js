/*
 * Devices: the project's devices, searched and filtered by the server (node ID and name
 * prefixes, product, status) and paged with the API's marker — the next page starts after
 * the last item seen, so the thousandth page of a million devices costs what the first
 * does. Each row's status follows the events stream live. Register a device (its secret
 * shown once), reset a secret, delete.
 */
import * as api from '../api.js';
import { h, put, field, uid, fmtTime } from '../dom.js';
import { pagedTable } from '../widgets/paged-table.js';
import { outcome } from '../widgets/outcome.js';
import { deviceBadge } from '../widgets/badge.js';
import { confirmDialog } from '../widgets/confirm.js';
import { secretOnce } from '../widgets/secret.js';

const PAGE = 20;
const STATUSES = ['ONLINE', 'OFFLINE', 'INACTIVE'];

/* A datalist of the project's first products, for the product inputs. */
function productList(signal) {
	const list = h('datalist', { id: uid('products') });
	api.products.list({ limit: 50 }, signal).then((res) => {
		for (const p of res.products) list.append(h('option', { value: p.product_id }, p.name));
	}).catch(() => {});
	return list;
}

function registerForm(datalist, secrets, onCreated) {
	const inputs = {
		node_id: h('input', { type: 'text', required: true, autocomplete: 'off', spellcheck: 'false', class: 'mono' }),
		product_id: h('input', { type: 'text', required: true, autocomplete: 'off', spellcheck: 'false', class: 'mono', list: datalist.id }),
		device_name: h('input', { type: 'text', autocomplete: 'off' }),
		device_id: h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', class: 'mono' }),
		'auth_info.secret': h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', class: 'mono' }),
		'auth_info.timeout': h('input', { type: 'number', min: 0, step: 1, inputmode: 'numeric', value: '0' }),
	};
	const secure = h('input', { type: 'checkbox', id: uid('secure') });
	const result = outcome();
	const submit = h('button', { type: 'submit' }, 'Register device');
	const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'new-device-h' },
		h('h2', { id: 'new-device-h' }, 'Register a device'),
		h('div', { class: 'form-row' },
			field('Node ID', inputs.node_id, 'the LwM2M endpoint name (and DTLS PSK identity); 1–64 of A–Z a–z 0–9 _ -'),
			field('Product', inputs.product_id, 'an existing product ID'),
			field('Name', inputs.device_name, 'optional; the node ID when empty'),
			field('Device ID', inputs.device_id, 'optional; {product}_{node} when empty'),
			field('Secret', inputs['auth_info.secret'], 'optional; 8–64 hex digits; generated (128 bits) when empty'),
			field('Activation timeout (s)', inputs['auth_info.timeout'], 'a device that never connects is deleted after this; 0 = never'),
			h('div', { class: 'check' }, secure, h('label', { for: secure.id }, 'Secure access (DTLS with the secret as PSK)'))),
		h('div', { class: 'actions' }, submit),
		result.el);
	form.addEventListener('submit', async (e) => {
		e.preventDefault();
		for (const i of Object.values(inputs)) i.removeAttribute('aria-invalid');
		const body = { node_id: inputs.node_id.value.trim(), product_id: inputs.product_id.value.trim(), auth_info: { secure_access: secure.checked } };
		if (inputs.device_name.value.trim()) body.device_name = inputs.device_name.value.trim();
		if (inputs.device_id.value.trim()) body.device_id = inputs.device_id.value.trim();
		if (inputs['auth_info.secret'].value.trim()) body.auth_info.secret = inputs['auth_info.secret'].value.trim();
		const t = inputs['auth_info.timeout'].value.trim();
		if (t !== '') body.auth_info.timeout = Number(t);
		submit.disabled = true;
		const dev = await result.run(() => api.devices.create(body), {
			pending: 'Registering the device…',
			doneText: (d) => h('span', {}, 'Registered ', h('a', { href: `#/devices/${encodeURIComponent(d.device_id)}`, class: 'mono' }, d.device_id), ' (INACTIVE until it connects).'),
			error: (err) => {
				const f = err.field;
				const input = inputs[f] || (f === 'auth_info.secure_access' ? secure : null);
				if (input) {
					input.setAttribute('aria-invalid', 'true');
					input.focus();
				}
				return null;
			},
		});
		submit.disabled = false;
		if (!dev) return;
		put(secrets, secretOnce({ deviceId: dev.device_id, secret: dev.auth_info.secret, warnings: dev.warnings || [] }));
		for (const k of ['node_id', 'device_name', 'device_id', 'auth_info.secret']) inputs[k].value = '';
		onCreated(dev);
	});
	return form;
}

export default async function devicesPage(root, ctx) {
	ctx.setTitle('Devices');
	const q = ctx.query;
	const datalist = productList(ctx.signal);
	const f = {
		node_id_prefix: h('input', { type: 'search', value: q.node_id_prefix || '', autocomplete: 'off', spellcheck: 'false', class: 'mono' }),
		name: h('input', { type: 'search', value: q.name || '', autocomplete: 'off' }),
		product_id: h('input', { type: 'search', value: q.product_id || '', list: datalist.id, autocomplete: 'off', spellcheck: 'false', class: 'mono' }),
		status: h('select', {}, h('option', { value: '' }, 'any'), STATUSES.map((s) => h('option', { value: s, selected: q.status === s }, s))),
	};
	const filters = h('form', { class: 'card', role: 'search', 'aria-label': 'Find devices' },
		h('div', { class: 'form-row' },
			field('Node ID starts with', f.node_id_prefix),
			field('Name starts with', f.name),
			field('Product', f.product_id),
			field('Status', f.status)),
		h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Search'), h('button', { type: 'reset', class: 'secondary' }, 'Clear filters')));
	const secrets = h('div');
	const actions = outcome();
	const live = h('span', { class: 'stream-state', role: 'status' }, 'connecting…');
	let table;

	const current = () => Object.fromEntries(Object.entries(f).map(([k, i]) => [k, i.value.trim()]).filter(([, v]) => v !== ''));

	async function remove(d) {
		const ok = await confirmDialog({ title: `Delete device ${d.node_id}?`, message: 'Its registration, sessions, observations, shadow and commands end with it; the node ID is free again.', confirm: 'Delete device' });
		if (!ok) return;
		const r = await actions.run(() => api.devices.remove(d.device_id), { pending: `Deleting ${d.device_id}…`, doneText: () => `Deleted ${d.device_id}.` });
		if (r !== undefined) table.refresh();
	}

	async function reset(d) {
		const ok = await confirmDialog({ title: `Reset the secret of ${d.node_id}?`, message: 'A new secret is generated; the device\'s registration and DTLS sessions end, and it must connect with the new secret.', confirm: 'Reset secret' });
		if (!ok) return;
		const r = await actions.run(() => api.devices.resetSecret(d.device_id), { pending: 'Resetting the secret…', doneText: () => `New secret for ${d.device_id} below.` });
		if (r) put(secrets, secretOnce({ deviceId: r.device_id, secret: r.secret, warnings: r.warnings || [] }));
	}

	table = pagedTable({
		caption: 'Devices: oldest first, or by node ID or name when searching by them',
		pageSize: PAGE,
		key: (d) => d.device_id,
		empty: 'No devices match.',
		columns: [
			{ label: 'Node ID', cell: (d) => h('a', { href: `#/devices/${encodeURIComponent(d.device_id)}`, class: 'mono' }, d.node_id) },
			{ label: 'Name', cell: (d) => d.device_name },
			{ label: 'Product', cell: (d) => h('a', { href: `#/products/${encodeURIComponent(d.product_id)}`, class: 'mono' }, d.product_id) },
			{ label: 'Status', cell: (d) => deviceBadge(d) },
			{ label: 'Secure', cell: (d) => (d.auth_info && d.auth_info.secure_access ? 'DTLS' : 'no') },
			{ label: 'Created', cell: (d) => fmtTime(d.create_time) },
			{
				label: 'Actions',
				cell: (d) => h('div', { class: 'actions' },
					h('button', { type: 'button', class: 'secondary small', 'aria-label': `Reset the secret of ${d.node_id}`, onclick: () => reset(d) }, 'Reset secret'),
					h('button', { type: 'button', class: 'danger secondary small', 'aria-label': `Delete device ${d.node_id}`, onclick: () => remove(d) }, 'Delete')),
			},
		],
		// The cursor is {marker}, the API's page.marker: there is one whenever more devices
		// may follow, also after a short or empty page of a prefix search.
		load: async (cursor, signal) => {
			const query = { ...current(), limit: PAGE };
			if (cursor) query.marker = cursor.marker;
			const res = await api.devices.list(query, signal);
			const page = res.page || {};
			return { rows: res.devices, count: page.count, countCapped: !!page.count_capped, next: page.marker ? { marker: page.marker } : null };
		},
	});

	filters.addEventListener('submit', (e) => {
		e.preventDefault();
		ctx.setQuery(current());
		table.reload();
	});
	filters.addEventListener('reset', () => {
		setTimeout(() => {
			ctx.setQuery({});
			table.reload();
		});
	});
	f.status.addEventListener('change', () => filters.requestSubmit());

	const refresh = h('button', { type: 'button', class: 'secondary' }, 'Refresh');
	refresh.addEventListener('click', () => table.refresh());
	root.append(
		datalist,
		h('div', { class: 'page-head' }, h('h1', {}, 'Devices'), live, refresh),
		filters,
		secrets,
		h('section', { class: 'card', 'aria-label': 'Device list' }, table.el, actions.el),
		registerForm(datalist, secrets, () => table.refresh()));

	// Statuses live: a registration or update means ONLINE (and awake), a de-registration OFFLINE.
	const stream = api.events({
		signal: ctx.signal,
		// Only what changes a status: not the fleet's reports, which may be hundreds a second.
		types: ['registration', 'update', 'deregistration'],
		onState: (s) => {
			live.className = `stream-state s-${s.state}`;
			live.textContent = s.state === 'open' ? 'statuses live' : s.state === 'retrying' ? 'live updates interrupted; retrying' : s.state === 'stopped' ? 'live updates stopped' : 'connecting…';
		},
		onEvent: ({ type, data }) => {
			if (!data || !data.device_id) return;
			if (type === 'registration' || type === 'update') table.update(data.device_id, { status: 'ONLINE', asleep: false });
			else if (type === 'deregistration') table.update(data.device_id, { status: 'OFFLINE', asleep: false });
		},
	});
	ctx.signal.addEventListener('abort', () => {
		stream.close();
		table.stop();
	});
	table.reload();
}
