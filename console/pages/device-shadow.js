/*
 * The device page's shadow: per service of the model, each property's reported value
 * (with the service's report time and version) and desired value; writable properties
 * (method with W) get an input typed by the model, and "Save desired" PUTs the service's
 * change based on the desired version shown — a 409 says someone changed it meanwhile.
 * Reported values follow the `property` events live; the inputs are never redrawn under
 * the person typing.
 */
import * as api from '../api.js';
import { h, put, fmtTime } from '../dom.js';
import { outcome } from '../widgets/outcome.js';
import { errorBox } from '../widgets/error-box.js';
import { valueInput, describe } from '../widgets/value-input.js';

function text(v) {
	if (v === undefined) return '—';
	return typeof v === 'string' ? v : JSON.stringify(v);
}

export function shadowSection(deviceId, caps, signal) {
	const root = h('div', {});
	const errors = errorBox();
	const services = new Map(); // service_id → {update(entry)}
	let loading = null;

	function serviceBlock(svc) {
		const props = svc.properties || [];
		const head = h('p', { class: 'note' });
		const rows = new Map();
		const inputs = [];
		const tbody = h('tbody');
		const result = outcome();
		let desiredVersion;
		for (const p of props) {
			const writable = (p.method || '').includes('W');
			const rep = h('td', { 'data-label': 'Reported', class: 'mono' }, '—');
			const des = h('td', { 'data-label': 'Desired', class: 'mono' }, '—');
			let edit = h('td', { 'data-label': 'Set desired' }, h('span', { class: 'muted' }, writable ? '' : 'read-only'));
			if (writable) {
				const vi = valueInput(p, { label: `Desired ${p.property_name}` });
				const clear = h('input', { type: 'checkbox', id: `clr-${svc.service_id}-${p.property_name}` });
				inputs.push({ p, vi, clear });
				edit = h('td', { 'data-label': 'Set desired' }, vi.el,
					h('div', { class: 'check' }, clear, h('label', { for: clear.id }, `Take ${p.property_name} out of desired`)));
			}
			rows.set(p.property_name, { rep, des });
			tbody.append(h('tr', {},
				h('th', { scope: 'row', class: 'mono' }, p.property_name),
				h('td', { 'data-label': 'Type' }, describe(p), p.method ? ` · ${p.method}` : ''),
				rep, des, edit));
		}
		const save = h('button', { type: 'submit' }, `Save desired of ${svc.service_id}`);
		const form = h('form', { class: 'shadow-svc', novalidate: true, 'aria-label': `Shadow of service ${svc.service_id}` },
			h('h3', {}, `Service ${svc.service_id}`), head,
			h('div', { class: 'table-scroll' }, h('table', { class: 'stack' },
				h('caption', { class: 'visually-hidden' }, `Properties of ${svc.service_id}: reported and desired`),
				h('thead', {}, h('tr', {}, ['Property', 'Type', 'Reported', 'Desired', 'Set desired'].map((t) => h('th', { scope: 'col' }, t)))),
				tbody)),
			inputs.length ? h('div', { class: 'actions' }, save) : h('p', { class: 'note' }, 'No writable properties (method with W) in this service.'),
			result.el);
		form.addEventListener('submit', async (e) => {
			e.preventDefault();
			const desired = {};
			let bad = null;
			for (const { p, vi, clear } of inputs) {
				if (clear.checked) {
					desired[p.property_name] = null;
					continue;
				}
				try {
					const v = vi.read();
					if (v !== undefined) desired[p.property_name] = v;
				} catch (err) {
					bad = bad || vi;
				}
			}
			if (bad) {
				bad.control.focus();
				return;
			}
			if (!Object.keys(desired).length) {
				result.run(() => Promise.reject(new Error('Give a desired value, or tick one to take out.')));
				return;
			}
			const change = { service_id: svc.service_id, desired };
			if (desiredVersion !== undefined) change.version = desiredVersion;
			save.disabled = true;
			const r = await result.run(() => api.shadow.put(deviceId, [change]), {
				pending: 'Saving the desired values…',
				doneText: () => 'Saved: the platform sends them as a $properties command when the device is reachable (see Commands).',
				error: (err) => {
					if (err.status === 409) return h('p', {}, 'Someone changed the desired values meanwhile. ', h('button', { type: 'button', class: 'small', onclick: () => load() }, 'Reload the shadow'));
					const m = /^shadow\[\d+\]\.desired\.([A-Za-z0-9_$-]+)\s*:\s*(.*)$/.exec(err.message);
					const hit = m && inputs.find((x) => x.p.property_name === m[1]);
					if (hit) {
						hit.vi.showError(m[2]);
						hit.vi.control.focus();
					}
					return null;
				},
			});
			save.disabled = false;
			if (r) {
				for (const { vi, clear } of inputs) {
					vi.set(undefined);
					clear.checked = false;
				}
				load();
			}
		});
		return {
			el: form,
			update(entry) {
				const rp = (entry && entry.reported) || {};
				const dp = (entry && entry.desired) || {};
				desiredVersion = dp.version;
				for (const [name, { rep, des }] of rows) {
					rep.textContent = text((rp.properties || {})[name]);
					des.textContent = text((dp.properties || {})[name]);
				}
				put(head,
					rp.event_time ? `Reported ${fmtTime(rp.event_time)} (version ${rp.version ?? '—'})` : 'Nothing reported yet.',
					dp.event_time ? ` · desired changed ${fmtTime(dp.event_time)} (version ${dp.version ?? '—'})` : '');
			},
		};
	}

	/* The shadow as GET shows it (or a PUT answers). */
	function apply(sh) {
		const list = (sh && sh.shadow) || [];
		for (const [id, block] of services) block.update(list.find((x) => x.service_id === id));
	}

	async function load() {
		if (loading) return loading;
		loading = (async () => {
			try {
				apply(await api.shadow.get(deviceId, signal));
				errors.clear();
			} catch (err) {
				if (!err.aborted) errors.show(err, 'Could not load the shadow');
			} finally {
				loading = null;
			}
		})();
		return loading;
	}

	if (!caps.length) {
		put(root, h('p', { class: 'muted' }, 'The product has no model: there is no shadow to show. Give the product a model (and a codec or resource mappings).'));
	} else {
		for (const svc of caps) {
			const b = serviceBlock(svc);
			services.set(svc.service_id, b);
			root.append(b.el);
		}
		load();
	}
	let timer = 0;
	return {
		el: h('div', {}, errors.el, root),
		load,
		/* A property event: reload soon (several events in a burst make one GET). */
		property() {
			if (!timer) timer = setTimeout(() => {
				timer = 0;
				load();
			}, 300);
		},
	};
}
