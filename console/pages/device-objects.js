/*
 * The device page's LwM2M tree, after the Leshan demo: one component per node kind —
 * object, instance, resource — built from the registration's object links and named by
 * the server's object models (GET …/models). Each resource has the operations its model
 * allows: Read, Write (an input typed by the resource), Execute with arguments, Observe
 * and cancel, Write-Attributes; each shows the device's answer with its CoAP code, or how
 * long the call has been held for a sleeping device. "Any path" reaches what the models
 * do not describe.
 */
import * as api from '../api.js';
import { h, put, field, uid, fmtMs } from '../dom.js';
import { outcome } from '../widgets/outcome.js';
import { jsonView } from '../widgets/json-view.js';
import { valueInput, resourceSpec } from '../widgets/value-input.js';
import { errorBox } from '../widgets/error-box.js';

const ATTRS = ['pmin', 'pmax', 'gt', 'lt', 'st', 'epmin', 'epmax'];
const FORMATS = ['tlv', 'senml-json', 'senml-cbor', 'json', 'cbor', 'text', 'opaque'];

/* The object links of a registration as {objectId: [instanceIds]}, without the root or
 * an alternate path ("</lwm2m>;rt=\"oma.lwm2m\"", which also prefixes the others). */
export function parseLinks(links) {
	const out = new Map();
	let prefix = '';
	for (const part of String(links || '').split(',')) {
		const m = /^\s*<([^>]*)>(.*)$/.exec(part);
		if (!m) continue;
		if (/rt="?oma\.lwm2m"?/.test(m[2])) {
			prefix = m[1] === '/' ? '' : m[1];
			continue;
		}
		let p = m[1];
		if (prefix && p.startsWith(`${prefix}/`)) p = p.slice(prefix.length);
		const ids = p.split('/').filter(Boolean).map(Number);
		if (!ids.length || ids.some((x) => !Number.isInteger(x))) continue;
		if (!out.has(ids[0])) out.set(ids[0], []);
		if (ids.length > 1 && !out.get(ids[0]).includes(ids[1])) out.get(ids[0]).push(ids[1]);
	}
	return out;
}

function codeBadge(code) {
	const c = String(code || '');
	return h('span', { class: `code-badge c${c[0] || ''}` }, c || '—');
}

function valueText(v) {
	if (v === undefined) return '';
	return typeof v === 'string' ? v : JSON.stringify(v);
}

/* A device's answer: its CoAP code, how long it was held, its values or links. */
export function answerView(a) {
	if (!a) return h('p', {}, 'No content.');
	const list = (a.values || []).map((v) => h('li', {}, `${v.path} = ${valueText(v.value)}`, h('span', { class: 'muted' }, ` (${v.type})`)));
	return h('div', { class: 'answer' },
		h('p', {}, 'Device answered ', codeBadge(a.code), a.format ? ` as ${a.format}` : '',
			a.held_ms ? ` — held ${(a.held_ms / 1000).toFixed(1)} s until the device woke` : '',
			a.observation_id !== undefined ? ` — observation ${a.observation_id}` : '',
			a.location ? ` — created at ${a.location}` : ''),
		list.length ? h('ul', { class: 'values' }, list) : null,
		a.links ? h('p', { class: 'mono' }, a.links) : null,
		a.decode_error ? h('p', { class: 'error-text' }, `Not decoded: ${a.decode_error}`) : null,
		a.payload_base64 ? h('p', { class: 'mono' }, `raw (base64): ${a.payload_base64}`) : null,
		h('details', {}, h('summary', {}, 'Whole answer'), jsonView(a, { label: 'Answer' })));
}

/*
 * The tree. dev: {id, settings: () => {timeout, format}, asleep: () => bool, queueMode: () => bool,
 * onObserved: () => void (the observation list changed)}.
 */
export function objectsSection(dev) {
	const root = h('div', { class: 'objects' });
	const resources = new Map(); // "/3/0/9" → resource component (for notifications)
	const observed = new Map(); // path → observation_id
	let linksShown = null;

	const held = (what) => ({
		pending: `${what}: waiting for the device…`,
		note: dev.asleep()
			? `The device is asleep (queue mode): the call is held until it next talks, for up to ${dev.settings().timeout} s.`
			: dev.queueMode() ? `The device is in queue mode: while it sleeps the call is held until it next talks, for up to ${dev.settings().timeout} s.` : null,
		cancellable: true,
		doneText: () => `${what}: answered`,
		done: answerView,
	});

	/* --- resource --- */
	function resourceNode(objectId, instanceId, r) {
		const path = `/${objectId}/${instanceId}/${r.id}`;
		const ops = r.operations || '';
		const value = h('span', { class: 'res-value' });
		const when = h('span', { class: 'muted small' });
		const res = outcome();
		const form = h('div', { class: 'res-form', hidden: true });
		const label = `${path} ${r.name}`;
		const obsBtn = h('button', { type: 'button', class: 'small secondary', 'aria-label': `Observe ${label}` }, 'Observe');

		const show = (values, t, how) => {
			const mine = (values || []).filter((v) => v.path === path || v.path.startsWith(`${path}/`));
			if (!mine.length) return;
			value.textContent = mine.length === 1 && mine[0].path === path ? valueText(mine[0].value)
				: mine.map((v) => `${v.path.slice(path.length + 1)}: ${valueText(v.value)}`).join(', ');
			when.textContent = `${how} ${fmtMs(t).slice(11)}`;
		};

		const openForm = (...children) => {
			if (!form.hidden && form.dataset.kind === children[0].dataset.kind) {
				form.hidden = true;
				return;
			}
			put(form, ...children);
			form.dataset.kind = children[0].dataset.kind;
			form.hidden = false;
			const first = form.querySelector('input, select, textarea');
			if (first) first.focus();
		};

		const read = async () => {
			const s = dev.settings();
			const a = await res.run((signal) => api.lwm2m.read(dev.id, path, { format: s.format, timeout: s.timeout, signal }), held(`Read ${path}`));
			if (a) show(a.values, Date.now(), 'read');
		};

		const writeForm = () => {
			const multi = r.multiple_instances;
			const vi = valueInput(resourceSpec(r.type), { label: `New value of ${r.name}`, required: true });
			const ri = h('input', { type: 'number', min: 0, step: 1, value: '0', inputmode: 'numeric' });
			const fmt = h('select', {}, h('option', { value: '' }, 'default (TLV)'), FORMATS.map((f) => h('option', { value: f }, f)));
			const go = h('button', { type: 'submit', class: 'small' }, `Write ${path}`);
			const f = h('form', { 'data-kind': 'write', 'aria-label': `Write ${label}` },
				h('div', { class: 'form-row' }, vi.el, multi ? field('Resource instance', ri) : null, field('Format', fmt)),
				h('div', { class: 'actions' }, go));
			f.addEventListener('submit', async (e) => {
				e.preventDefault();
				let v;
				try {
					v = vi.read();
				} catch (err) {
					vi.control.focus();
					return;
				}
				const target = multi ? `${path}/${Number(ri.value) || 0}` : path;
				const s = dev.settings();
				const item = { path: target, value: v };
				if (r.type) item.type = r.type;
				const a = await res.run((signal) => api.lwm2m.write(dev.id, target, [item], { format: fmt.value || undefined, timeout: s.timeout, signal }), held(`Write ${target}`));
				if (a && String(a.code).startsWith('2')) show([{ path: target, value: v }], Date.now(), 'written');
			});
			openForm(f);
		};

		const execForm = () => {
			const args = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', class: 'mono', placeholder: "0='now'" });
			const f = h('form', { 'data-kind': 'exec', 'aria-label': `Execute ${label}` },
				field('Arguments', args, "optional, e.g. 0='now',1"),
				h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'small' }, `Execute ${path}`)));
			f.addEventListener('submit', (e) => {
				e.preventDefault();
				const s = dev.settings();
				res.run((signal) => api.lwm2m.execute(dev.id, path, args.value.trim(), { timeout: s.timeout, signal }), held(`Execute ${path}`));
			});
			openForm(f);
		};

		const attrForm = () => {
			const inputs = ATTRS.map((a) => h('input', { type: 'text', autocomplete: 'off', inputmode: 'decimal', id: uid('attr'), 'data-attr': a }));
			const f = h('form', { 'data-kind': 'attrs', 'aria-label': `Write-Attributes ${label}` },
				h('p', { class: 'note' }, 'Empty: left as it is; a dash (-) clears the attribute.'),
				h('div', { class: 'form-row' }, inputs.map((i) => field(i.dataset.attr, i))),
				h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'small' }, `Write attributes of ${path}`)));
			f.addEventListener('submit', (e) => {
				e.preventDefault();
				const attrs = {};
				for (const i of inputs) {
					const v = i.value.trim();
					if (v === '-') attrs[i.dataset.attr] = null;
					else if (v !== '') attrs[i.dataset.attr] = v;
				}
				if (!Object.keys(attrs).length) {
					res.run(() => Promise.reject(new Error('Give at least one attribute.')));
					return;
				}
				const s = dev.settings();
				res.run((signal) => api.lwm2m.writeAttributes(dev.id, path, attrs, { timeout: s.timeout, signal }), held(`Write-Attributes ${path}`));
			});
			openForm(f);
		};

		const observe = async () => {
			const s = dev.settings();
			const id = observed.get(path);
			if (id !== undefined) {
				const a = await res.run(() => api.lwm2m.cancel(dev.id, id, { timeout: s.timeout }), {
					...held(`Cancel observation ${id}`), done: (x) => (x ? answerView(x) : h('p', {}, 'Cancelled.')),
				});
				if (a !== undefined) {
					observed.delete(path);
					refreshObsButton();
					dev.onObserved();
				}
				return;
			}
			const a = await res.run((signal) => api.lwm2m.observe(dev.id, path, { format: s.format, timeout: s.timeout, signal }), held(`Observe ${path}`));
			if (a && a.observation_id !== undefined) {
				observed.set(path, a.observation_id);
				show(a.values, Date.now(), 'observed');
				refreshObsButton();
				dev.onObserved();
			}
		};

		function refreshObsButton() {
			const on = observed.has(path);
			obsBtn.textContent = on ? 'Cancel observation' : 'Observe';
			obsBtn.setAttribute('aria-label', `${on ? 'Cancel observation of' : 'Observe'} ${label}`);
			obsBtn.setAttribute('aria-pressed', String(on));
		}
		obsBtn.addEventListener('click', observe);
		refreshObsButton();

		const can = (op) => !ops || ops.includes(op);
		const btn = (text, fn, aria) => h('button', { type: 'button', class: 'small secondary', 'aria-label': `${aria || text} ${label}`, onclick: fn }, text);
		const el = h('li', { class: 'res' },
			h('div', { class: 'res-head' },
				h('span', { class: 'res-name' }, r.name, ' ', h('span', { class: 'mono muted' }, path)),
				h('span', { class: 'muted' }, `${r.type || '?'}${r.multiple_instances ? '[]' : ''} ${ops}`),
				value, when,
				h('span', { class: 'res-ops' },
					can('R') ? btn('Read', read) : null,
					can('W') ? btn('Write…', writeForm, 'Write') : null,
					can('E') ? btn('Execute…', execForm, 'Execute') : null,
					can('R') ? obsBtn : null,
					can('R') ? btn('Attributes…', attrForm, 'Write-Attributes') : null)),
			form, res.el);
		const comp = { el, show, refreshObsButton };
		resources.set(path, comp);
		return comp;
	}

	/* --- instance --- */
	function instanceNode(objectId, instanceId, model) {
		const path = `/${objectId}/${instanceId}`;
		const res = outcome();
		const list = h('ul', { class: 'plain' });
		const btn = (text, fn) => h('button', { type: 'button', class: 'small secondary', 'aria-label': `${text} ${path}`, onclick: fn }, text);
		const readAll = async () => {
			const s = dev.settings();
			const a = await res.run((signal) => api.lwm2m.read(dev.id, path, { format: s.format, timeout: s.timeout, signal }), held(`Read ${path}`));
			if (a && a.values) for (const [p, comp] of resources) if (p.startsWith(`${path}/`)) comp.show(a.values, Date.now(), 'read');
		};
		const discover = () => {
			const s = dev.settings();
			res.run((signal) => api.lwm2m.discover(dev.id, path, { timeout: s.timeout, signal }), held(`Discover ${path}`));
		};
		const observeAll = async () => {
			const s = dev.settings();
			const a = await res.run((signal) => api.lwm2m.observe(dev.id, path, { format: s.format, timeout: s.timeout, signal }), held(`Observe ${path}`));
			if (a && a.observation_id !== undefined) dev.onObserved();
		};
		if (model) for (const r of model.resources || []) list.append(resourceNode(objectId, instanceId, r).el);
		else list.append(h('li', { class: 'muted' }, 'The server has no model of this object: read the instance, or use "Any path" below.'));
		return h('section', { class: 'inst', 'aria-label': `Instance ${path}` },
			h('div', { class: 'res-head' }, h('h3', { class: 'inst-h' }, `Instance ${path}`),
				h('span', { class: 'res-ops' }, btn('Read instance', readAll), btn('Observe instance', observeAll), btn('Discover', discover))),
			res.el, list);
	}

	/* --- object --- */
	function objectNode(objectId, instances, name) {
		const body = h('div', { class: 'obj-body' }, h('p', { class: 'muted' }, 'Loading the object model…'));
		const det = h('details', { class: 'obj' },
			h('summary', {}, h('span', { class: 'mono' }, `/${objectId}`), ` ${name || 'Unknown object'}`,
				h('span', { class: 'muted' }, ` — instance${instances.length === 1 ? '' : 's'} ${instances.join(', ') || 'none listed'}`)),
			body);
		let loaded = false;
		det.addEventListener('toggle', async () => {
			if (!det.open || loaded) return;
			loaded = true;
			let model = null;
			try {
				model = await api.models.get(objectId);
			} catch (err) {
				put(body, h('p', { class: 'error-text', role: 'alert' }, `Could not load the model of ${objectId}: ${err.toString()}`));
				loaded = false;
				return;
			}
			put(body,
				model ? h('p', { class: 'note' }, `${model.name} ${model.version ? `v${model.version}` : ''} (${model.source}), ${model.multiple_instances ? 'multiple instances' : 'single instance'}.`) : null,
				(instances.length ? instances : [0]).map((i) => instanceNode(objectId, i, model)));
		});
		return det;
	}

	/* --- any path --- */
	function anyPath() {
		const path = h('input', { type: 'text', class: 'mono', autocomplete: 'off', spellcheck: 'false', placeholder: '/3303/0/5700' });
		const op = h('select', {}, ['Read', 'Discover', 'Observe', 'Write', 'Execute', 'Delete'].map((o) => h('option', { value: o }, o)));
		const arg = h('input', { type: 'text', class: 'mono', autocomplete: 'off', spellcheck: 'false' });
		const type = h('select', {}, h('option', { value: '' }, '(from the model, or the value)'),
			['string', 'integer', 'unsigned', 'float', 'boolean', 'opaque', 'time', 'objlnk'].map((t) => h('option', { value: t }, t)));
		const res = outcome();
		const errors = errorBox();
		const f = h('form', { class: 'any-path', 'aria-labelledby': 'any-h' },
			h('h3', { id: 'any-h' }, 'Any path'),
			h('div', { class: 'form-row' }, field('Path', path), field('Operation', op),
				field('Value or arguments', arg, 'Write: the value; Execute: the arguments'), field('Value type (Write)', type)),
			errors.el,
			h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Send')),
			res.el);
		f.addEventListener('submit', async (e) => {
			e.preventDefault();
			errors.clear();
			const p = `/${path.value.trim().replace(/^\/+|\/+$/g, '')}`;
			if (!/^\/\d+(\/\d+){0,3}$/.test(p)) {
				errors.show('a path is /object[/instance[/resource[/resource instance]]], e.g. /3/0/9');
				path.focus();
				return;
			}
			const s = dev.settings();
			const o = { timeout: s.timeout };
			let fn;
			switch (op.value) {
			case 'Discover': fn = (signal) => api.lwm2m.discover(dev.id, p, { ...o, signal }); break;
			case 'Observe': fn = (signal) => api.lwm2m.observe(dev.id, p, { ...o, format: s.format, signal }); break;
			case 'Execute': fn = (signal) => api.lwm2m.execute(dev.id, p, arg.value.trim(), { ...o, signal }); break;
			case 'Delete': fn = (signal) => api.lwm2m.remove(dev.id, p, { ...o, signal }); break;
			case 'Write': {
				let v = arg.value;
				const t = type.value;
				if (['integer', 'unsigned', 'float', 'time'].includes(t)) v = Number(v);
				else if (t === 'boolean') v = v.trim() === 'true';
				const item = { path: p, value: v };
				if (t) item.type = t;
				fn = (signal) => api.lwm2m.write(dev.id, p, [item], { ...o, signal });
				break;
			}
			default: fn = (signal) => api.lwm2m.read(dev.id, p, { ...o, format: s.format, signal });
			}
			const a = await res.run(fn, held(`${op.value} ${p}`));
			if (a && a.observation_id !== undefined) dev.onObserved();
			if (a && a.values) for (const comp of resources.values()) comp.show(a.values, Date.now(), 'read');
		});
		return f;
	}

	const anyForm = anyPath();
	return {
		el: h('div', {}, root, anyForm),
		/* (Re)builds the tree from the registration's links; unchanged links keep it. */
		async setLinks(links) {
			if (links === linksShown) return;
			linksShown = links;
			resources.clear();
			const objs = parseLinks(links);
			if (!objs.size) {
				put(root, h('p', { class: 'muted' }, links === null ? 'The device is not registered: its objects appear when it registers.' : 'The registration lists no objects.'));
				return;
			}
			let names = new Map();
			try {
				const list = await api.models.list();
				names = new Map(list.models.map((m) => [m.object_id, m.name]));
			} catch (e) {
				/* names stay unknown */
			}
			put(root, [...objs.entries()].sort((a, b) => a[0] - b[0]).map(([id, inst]) => objectNode(id, inst.sort((a, b) => a - b), names.get(id))));
		},
		/* A notification event: the value on its resource(s). */
		notify(ev) {
			const t = ev.time_ms || Date.now();
			for (const comp of resources.values()) comp.show(ev.values, t, `notified #${ev.seq ?? ''}`);
		},
		/* The observation list, to mark observed resources. */
		setObservations(list) {
			observed.clear();
			for (const o of list) if (!o.cancelled) observed.set(o.path, o.observation_id);
			for (const comp of resources.values()) comp.refreshObsButton();
		},
		observedPaths: () => observed,
	};
}
