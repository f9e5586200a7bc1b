/*
 * Device: one device — identity, its live registration, its LwM2M objects with their
 * operations (device-objects.js), observations, shadow (device-shadow.js), commands
 * (device-commands.js), a chart of a numeric property, and its live events. One events
 * stream for the device feeds every section.
 */
import * as api from '../api.js';
import { h, put, field, uid, fmtTime, parseTime, ago } from '../dom.js';
import { errorBox } from '../widgets/error-box.js';
import { outcome } from '../widgets/outcome.js';
import { deviceBadge } from '../widgets/badge.js';
import { confirmDialog } from '../widgets/confirm.js';
import { secretOnce } from '../widgets/secret.js';
import { eventFeed } from '../widgets/event-feed.js';
import { lineChart } from '../widgets/chart.js';
import { objectsSection, answerView } from './device-objects.js';
import { shadowSection } from './device-shadow.js';
import { commandsSection } from './device-commands.js';

const POLL_MS = 10000;
const FORMATS = ['tlv', 'senml-json', 'senml-cbor', 'json', 'cbor', 'text', 'opaque'];

function dl(pairs) {
	return h('dl', { class: 'props' }, pairs.filter(Boolean).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v === undefined || v === null || v === '' ? '—' : v)]));
}

function editForm(dev, onSaved) {
	const name = h('input', { type: 'text', value: dev.device_name, autocomplete: 'off' });
	const desc = h('input', { type: 'text', value: dev.description || '', autocomplete: 'off' });
	const timeout = h('input', { type: 'number', min: 0, step: 1, value: String((dev.auth_info && dev.auth_info.timeout) || 0), inputmode: 'numeric' });
	const secure = h('input', { type: 'checkbox', id: uid('sec'), checked: !!(dev.auth_info && dev.auth_info.secure_access) });
	const result = outcome();
	const form = h('form', { novalidate: true, 'aria-label': 'Edit the device' },
		h('div', { class: 'form-row' }, field('Name', name), field('Description', desc), field('Activation timeout (s)', timeout, '0 = never deleted'),
			h('div', { class: 'check' }, secure, h('label', { for: secure.id }, 'Secure access (DTLS)'))),
		h('p', { class: 'note' }, 'Changing secure access ends the device\'s registration: it must register again over the transport that now applies.'),
		h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save device')),
		result.el);
	form.addEventListener('submit', async (e) => {
		e.preventDefault();
		const body = { device_name: name.value.trim(), description: desc.value, auth_info: { secure_access: secure.checked, timeout: Number(timeout.value) || 0 } };
		const r = await result.run(() => api.devices.update(dev.device_id, body), { pending: 'Saving…', doneText: () => 'Saved.' });
		if (r) onSaved(r);
	});
	return h('details', {}, h('summary', {}, 'Edit the device'), form);
}

export default async function devicePage(root, ctx) {
	const id = ctx.params.deviceId;
	ctx.setTitle(`Device ${id}`);
	const title = h('h1', {}, `Device ${id}`);
	const statusBox = h('span');
	const errors = errorBox();
	const actions = outcome();
	const secrets = h('div');
	const identity = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
	const registration = h('div');
	const refresh = h('button', { type: 'button', class: 'secondary' }, 'Refresh');
	const resetBtn = h('button', { type: 'button', class: 'secondary' }, 'Reset secret');
	const delBtn = h('button', { type: 'button', class: 'danger secondary' }, 'Delete device');
	const body = h('div');
	root.append(
		h('p', { class: 'crumbs' }, h('a', { href: '#/devices' }, 'Devices'), ' / ', h('span', { class: 'mono' }, id)),
		h('div', { class: 'page-head' }, title, statusBox, refresh, resetBtn, delBtn),
		errors.el, actions.el, secrets,
		h('div', { class: 'grid two' },
			h('section', { class: 'card', 'aria-labelledby': 'dev-id-h' }, h('h2', { id: 'dev-id-h' }, 'Identity'), identity),
			h('section', { class: 'card', 'aria-labelledby': 'dev-reg-h' }, h('h2', { id: 'dev-reg-h' }, 'Registration'), registration)),
		body);

	let dev;
	try {
		dev = await api.devices.get(id, ctx.signal);
	} catch (err) {
		if (err.aborted) return;
		put(identity);
		errors.show(err, 'Could not load the device');
		return;
	}
	let product = null;
	try {
		product = await api.products.get(dev.product_id, ctx.signal);
	} catch (err) {
		if (err.aborted) return;
		errors.show(err, `Could not load product ${dev.product_id} (its model names the shadow and the commands)`);
	}
	const caps = (product && product.service_capabilities) || [];

	// Settings of the calls to the device.
	const timeout = h('input', { type: 'number', min: 1, max: 300, step: 1, value: '30', inputmode: 'numeric' });
	const format = h('select', {}, h('option', { value: '' }, 'default (device, product, or the device picks)'), FORMATS.map((f) => h('option', { value: f }, f)));
	const settings = () => ({ timeout: Math.min(300, Math.max(1, Number(timeout.value) || 30)), format: format.value || undefined });

	// Observations.
	const obsBody = h('tbody');
	const obsResult = outcome();
	let objects;
	async function loadObservations() {
		try {
			const r = await api.lwm2m.observations(id, ctx.signal);
			const list = r.observations || [];
			objects.setObservations(list);
			put(obsBody);
			for (const o of list) {
				const cancel = async (passive) => {
					const a = await obsResult.run(() => api.lwm2m.cancel(id, o.observation_id, { passive, timeout: settings().timeout }), {
						pending: `Cancelling observation ${o.observation_id}${passive ? ' (passively)' : ''}…`,
						note: !passive && isAsleep() ? 'The device is asleep: the cancel is held until it talks.' : null,
						doneText: () => `Observation ${o.observation_id} cancelled.`,
						done: (x) => (x ? answerView(x) : null),
					});
					if (a !== undefined) loadObservations();
				};
				obsBody.append(h('tr', {},
					h('td', { 'data-label': 'Path', class: 'mono' }, o.paths ? o.paths.join(', ') : o.path),
					h('td', { 'data-label': 'ID', class: 'num' }, String(o.observation_id)),
					h('td', { 'data-label': 'Notifications', class: 'num' }, String(o.notifications)),
					h('td', { 'data-label': 'Last' }, o.last_code || '—', o.last_time ? ` at ${fmtTime(o.last_time)}` : ''),
					h('td', { 'data-label': 'Latest value', class: 'mono' }, (o.values || []).map((v) => `${v.path} = ${JSON.stringify(v.value)}`).join(', ') || '—'),
					h('td', { 'data-label': 'Actions' }, o.cancelled ? 'cancelled' : h('div', { class: 'actions' },
						h('button', { type: 'button', class: 'small secondary', 'aria-label': `Cancel observation ${o.observation_id} of ${o.path}`, onclick: () => cancel(false) }, 'Cancel'),
						h('button', { type: 'button', class: 'small secondary', 'aria-label': `Forget observation ${o.observation_id} of ${o.path} (passive cancel)`, onclick: () => cancel(true) }, 'Forget')))));
			}
			if (!list.length) obsBody.append(h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No observations.')));
		} catch (err) {
			if (!err.aborted) put(obsBody, h('tr', {}, h('td', { colspan: 6, class: 'error-text' }, `Could not load the observations: ${err.toString()}`)));
		}
	}

	// The live registration (dev.lwm2m) is there only while the device is registered.
	const isAsleep = () => !!(dev.lwm2m && dev.lwm2m.asleep);
	objects = objectsSection({ id, settings, asleep: isAsleep, queueMode: () => !!(dev.lwm2m && dev.lwm2m.queue_mode), onObserved: loadObservations });
	const shadow = shadowSection(id, caps, ctx.signal);
	const commands = commandsSection(id, caps, ctx.signal);

	// The chart: any numeric property of the model, from the property events.
	const numeric = [];
	for (const svc of caps) for (const p of svc.properties || []) if (['int', 'long', 'decimal'].includes(p.data_type)) numeric.push(`${svc.service_id}.${p.property_name}`);
	const series = new Map(numeric.map((k) => [k, []]));
	const pick = h('select', { id: uid('series') }, numeric.map((k) => h('option', { value: k }, k)));
	const chart = lineChart({ title: numeric[0] ? `${numeric[0]} over time` : 'No numeric property' });
	const replay = () => {
		chart.reset(`${pick.value} over time`);
		for (const p of series.get(pick.value) || []) chart.add(p.t, p.v);
	};
	pick.addEventListener('change', replay);

	const feed = eventFeed({ title: 'Live events of the device', showDevice: false });

	function showDevice() {
		title.textContent = `Device ${dev.device_name}`;
		ctx.setTitle(`${dev.device_name} (device)`);
		put(statusBox, deviceBadge(dev));
		put(identity,
			dl([
				['Device ID', h('span', { class: 'mono' }, dev.device_id)],
				['Node ID', h('span', { class: 'mono' }, dev.node_id)],
				['Name', dev.device_name],
				['Product', h('a', { href: `#/products/${encodeURIComponent(dev.product_id)}`, class: 'mono' }, dev.product_id)],
				['Status', deviceBadge(dev)],
				['Secure access', dev.auth_info && dev.auth_info.secure_access ? 'yes: DTLS with its secret as PSK' : 'no: plain CoAP'],
				['Activation timeout', dev.auth_info && dev.auth_info.timeout ? `${dev.auth_info.timeout} s` : 'none'],
				['Read format', dev.read_format || '(the product\'s)'],
				['Description', dev.description],
				['Created', fmtTime(dev.create_time)],
			]),
			editForm(dev, (d) => {
				dev = d;
				showDevice();
			}));
		const l = dev.lwm2m;
		if (!l) {
			put(registration, h('p', {}, 'Not registered now.', dev.status === 'INACTIVE' ? ' It has never connected.' : ''));
		} else {
			put(registration, dl([
				['Endpoint', h('span', { class: 'mono' }, dev.node_id)],
				['Registration ID', h('span', { class: 'mono' }, l.registration_id)],
				['Address', h('span', { class: 'mono' }, l.peer_address)],
				['Transport', `${l.transport}${l.cipher_suite ? ` · ${l.cipher_suite}` : ''}`],
				['Binding', l.binding],
				['Lifetime', l.lifetime !== undefined ? `${l.lifetime} s` : ''],
				['LwM2M version', l.lwm2m_version],
				['Registered', fmtTime(l.registered_time)],
				['Last update', fmtTime(l.last_update_time)],
				['Last seen', `${fmtTime(l.last_seen)} (${ago(parseTime(l.last_seen))})`],
				['Queue mode', l.queue_mode ? `yes · ${l.asleep ? 'asleep: calls are held until it wakes' : 'awake'}` : 'no'],
				l.unknown_objects && l.unknown_objects.length ? ['Objects without a model', l.unknown_objects.join(', ')] : null,
			]));
		}
		objects.setLinks(l ? l.object_links || '' : null);
	}

	async function reload() {
		try {
			dev = await api.devices.get(id, ctx.signal);
			errors.clear();
			showDevice();
		} catch (err) {
			if (!err.aborted) errors.show(err, 'Could not refresh the device');
		}
	}

	refresh.addEventListener('click', () => {
		reload();
		loadObservations();
		shadow.load();
		commands.load();
	});
	resetBtn.addEventListener('click', async () => {
		const ok = await confirmDialog({ title: `Reset the secret of ${dev.node_id}?`, message: 'A new secret is generated; the registration and DTLS sessions end, and the device must connect with the new secret.', confirm: 'Reset secret' });
		if (!ok) return;
		const r = await actions.run(() => api.devices.resetSecret(id), { pending: 'Resetting the secret…', doneText: () => 'Secret reset; the new one is below.' });
		if (r) {
			put(secrets, secretOnce({ deviceId: r.device_id, secret: r.secret, warnings: r.warnings || [] }));
			reload();
		}
	});
	delBtn.addEventListener('click', async () => {
		const ok = await confirmDialog({ title: `Delete device ${dev.node_id}?`, message: 'Its registration, sessions, observations, shadow and commands end with it.', confirm: 'Delete device' });
		if (!ok) return;
		const r = await actions.run(() => api.devices.remove(id), { pending: 'Deleting…', doneText: () => 'Deleted.' });
		if (r !== undefined) location.hash = '#/devices';
	});

	put(body,
		h('section', { class: 'card', 'aria-labelledby': 'dev-obj-h' },
			h('h2', { id: 'dev-obj-h' }, 'Objects'),
			h('p', { class: 'note' }, 'From the registration\'s object links, named by the server\'s object models. Open an object for its resources and their operations; each call waits for the device\'s answer.'),
			h('div', { class: 'form-row' }, field('Timeout of device calls (s)', timeout, '1–300; a sleeping device\'s call is held this long'), field('Read and observe format', format)),
			objects.el,
			h('h3', {}, 'Observations'),
			h('div', { class: 'table-scroll' }, h('table', { class: 'stack' },
				h('caption', { class: 'visually-hidden' }, 'Observations of the device'),
				h('thead', {}, h('tr', {}, ['Path', 'ID', 'Notifications', 'Last', 'Latest value', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
				obsBody)),
			obsResult.el),
		h('div', { class: 'grid two' },
			h('section', { class: 'card', 'aria-labelledby': 'dev-sh-h' }, h('h2', { id: 'dev-sh-h' }, 'Shadow'), shadow.el),
			h('section', { class: 'card', 'aria-labelledby': 'dev-ch-h' }, h('h2', { id: 'dev-ch-h' }, 'Chart'),
				numeric.length
					? [field('Property', pick, 'values reported while this page is open'), chart.el]
					: h('p', { class: 'muted' }, 'The model has no numeric property (int, long, decimal) to chart.'))),
		h('section', { class: 'card', 'aria-labelledby': 'dev-cmd-h' }, h('h2', { id: 'dev-cmd-h' }, 'Commands'), commands.el),
		h('div', { class: 'card' }, feed.el));

	showDevice();
	loadObservations();

	let obsTimer = 0;
	const stream = api.events({
		deviceId: id,
		signal: ctx.signal,
		onState: feed.state,
		onEvent: (ev) => {
			feed.push(ev);
			const d = ev.data || {};
			switch (ev.type) {
			case 'registration':
			case 'update':
			case 'deregistration':
				reload();
				if (ev.type !== 'update') loadObservations();
				break;
			case 'notification':
				objects.notify(d);
				// The counts and latest values of the observation list, at most every 2 s.
				if (!obsTimer) obsTimer = setTimeout(() => {
					obsTimer = 0;
					loadObservations();
				}, 2000);
				break;
			case 'property': {
				shadow.property();
				const t = Number.isFinite(parseTime(d.event_time)) ? parseTime(d.event_time) : Date.now();
				for (const [k, v] of Object.entries(d.properties || {})) {
					const key = `${d.service_id}.${k}`;
					if (!series.has(key) || typeof v !== 'number') continue;
					const list = series.get(key);
					list.push({ t, v });
					if (list.length > 300) list.shift();
					if (key === pick.value) chart.add(t, v);
				}
				break;
			}
			case 'command':
				commands.event(d);
				break;
			default:
			}
		},
	});
	// A queue-mode device falls asleep without an event: look again now and then.
	const timer = setInterval(() => {
		if (dev.lwm2m && dev.lwm2m.queue_mode) reload();
	}, POLL_MS);
	ctx.signal.addEventListener('abort', () => {
		clearInterval(timer);
		clearTimeout(obsTimer);
		stream.close();
	});
}
