/*
 * The product page's model editor: services, their properties, commands (with paras and
 * responses) and the product's resource mappings, as forms over one copy of the model.
 * Every control is registered under the path the API's 400 names
 * (`service_capabilities[0].properties[1].min: must be a number`), so a refused model
 * shows its error beside the field — or beside the property, service or command it names.
 * A JSON view shows (and takes) the same model; it can be exported to a file and imported
 * from one in the IoTDA service_capabilities format.
 */
import * as api from '../api.js';
import { h, put, uid, download } from '../dom.js';
import { errorBox } from '../widgets/error-box.js';
import { outcome } from '../widgets/outcome.js';
import { codeEditor } from '../widgets/code-editor.js';
import { valueInput } from '../widgets/value-input.js';

const TYPES = ['int', 'long', 'decimal', 'string', 'DateTime', 'jsonObject', 'enum', 'boolean', 'string list'];
const NUMERIC = new Set(['int', 'long', 'decimal']);
const METHODS = ['R', 'RW', 'W', 'RE', 'RWE', 'E'];
const OPTIONS = ['Master', 'Mandatory', 'Optional'];

const clone = (v) => JSON.parse(JSON.stringify(v === undefined ? null : v));

/* A model from an imported or pasted document: the service_capabilities array, an object
 * holding it (a product, or an export of this editor), or IoTDA's {"services": […]}. */
export function modelFrom(doc) {
	let caps = null;
	let maps = null;
	if (Array.isArray(doc)) caps = doc;
	else if (doc && typeof doc === 'object') {
		caps = doc.service_capabilities || doc.services;
		if (Array.isArray(doc.resource_mappings)) maps = doc.resource_mappings;
	}
	if (!Array.isArray(caps)) throw new Error('expected a service_capabilities array, or an object with one');
	// The form shows lists of objects; anything else is for the JSON view to fix.
	const isObj = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);
	const list = (owner, key, where) => {
		const v = owner[key];
		if (v === undefined || v === null) return [];
		if (!Array.isArray(v) || !v.every(isObj)) throw new Error(`${where}.${key} must be a list of objects`);
		return v;
	};
	caps.forEach((svc, i) => {
		const w = `service_capabilities[${i}]`;
		if (!isObj(svc)) throw new Error(`${w} must be an object`);
		list(svc, 'properties', w);
		list(svc, 'commands', w).forEach((c, k) => {
			list(c, 'paras', `${w}.commands[${k}]`);
			list(c, 'responses', `${w}.commands[${k}]`).forEach((r, j) => list(r, 'paras', `${w}.commands[${k}].responses[${j}]`));
		});
	});
	if (maps && !maps.every(isObj)) throw new Error('resource_mappings must be a list of objects');
	return { caps, maps };
}

/* The line of a JSON.parse error ("… at position 12" or "… line 3 column 5"). */
export function jsonErrorLine(text, err) {
	const lc = /line (\d+)/.exec(err.message);
	if (lc) return Number(lc[1]);
	const pos = /position (\d+)/.exec(err.message);
	return pos ? text.slice(0, Number(pos[1])).split('\n').length : 0;
}

export function modelEditor(product, { onSaved }) {
	let caps = clone(product.service_capabilities || []);
	let maps = clone(product.resource_mappings || []);
	let dirty = false;
	// path → {control, err} for fields, or {err} for a node (a service, a property, …)
	let places = new Map();
	const form = h('div', { class: 'model-form' });
	const mapsBox = h('div');
	const status = h('span', { class: 'muted', role: 'status' });
	const errors = errorBox();
	const saved = outcome();
	const save = h('button', { type: 'button' }, 'Save model');
	const addService = h('button', { type: 'button', class: 'secondary' }, 'Add service');
	const exportBtn = h('button', { type: 'button', class: 'secondary' }, 'Export JSON');
	const importInput = h('input', { type: 'file', accept: '.json,application/json', id: uid('import'), class: 'visually-hidden' });
	const importLabel = h('label', { for: importInput.id, class: 'file-button' }, 'Import JSON…');
	const jsonEditor = codeEditor({ label: 'The model as JSON', rows: 16 });
	const applyJson = h('button', { type: 'button', class: 'secondary' }, 'Apply JSON to the form');
	const jsonDetails = h('details', { class: 'json-details' }, h('summary', {}, 'JSON view'),
		h('p', { class: 'note' }, 'The same model as the API takes it. Edit it here and apply it to the form, then save.'),
		jsonEditor.el, h('div', { class: 'actions' }, applyJson));

	function changed() {
		dirty = true;
		status.textContent = 'Unsaved changes.';
	}

	function place(path, err, control) {
		places.set(path, { err, control });
	}

	/* A text input bound to obj[key]. kind: 'text' | 'number' (a number when it parses,
	 * else the text, for the API to name) | 'int' | 'list' (comma-separated strings). */
	function bound(obj, key, label, path, { kind = 'text', hint, placeholder, onChange } = {}) {
		const id = uid('m');
		const errId = uid('me');
		const v = obj[key];
		const input = h('input', {
			id, type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder,
			inputmode: kind === 'number' ? 'decimal' : kind === 'int' ? 'numeric' : undefined,
			value: v === undefined || v === null ? '' : Array.isArray(v) ? v.join(', ') : String(v),
			'aria-describedby': errId,
		});
		const err = h('small', { id: errId, class: 'field-error', hidden: true });
		input.addEventListener('input', () => {
			const raw = input.value.trim();
			if (raw === '') delete obj[key];
			else if (kind === 'number' || kind === 'int') obj[key] = raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
			else if (kind === 'list') obj[key] = raw.split(',').map((x) => x.trim()).filter((x) => x !== '');
			else obj[key] = input.value;
			changed();
			if (onChange) onChange();
		});
		place(path, err, input);
		return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('small', { class: 'hint' }, hint) : null, err);
	}

	function select(obj, key, label, path, values, { blank = '—', onChange } = {}) {
		const id = uid('m');
		const errId = uid('me');
		const cur = obj[key];
		const opts = [...values];
		if (cur !== undefined && cur !== null && !opts.includes(cur)) opts.push(cur);
		const sel = h('select', { id, 'aria-describedby': errId },
			blank === null ? null : h('option', { value: '' }, blank),
			opts.map((o) => h('option', { value: o, selected: o === cur }, o)));
		const err = h('small', { id: errId, class: 'field-error', hidden: true });
		sel.addEventListener('change', () => {
			if (sel.value === '') delete obj[key];
			else obj[key] = sel.value;
			changed();
			if (onChange) onChange();
		});
		place(path, err, sel);
		return h('div', { class: 'field' }, h('label', { for: id }, label), sel, err);
	}

	function checkbox(obj, key, label, path) {
		const box = h('input', { type: 'checkbox', id: uid('m'), checked: obj[key] === true });
		const err = h('small', { class: 'field-error', hidden: true });
		box.addEventListener('change', () => {
			if (box.checked) obj[key] = true;
			else delete obj[key];
			changed();
		});
		place(path, err, box);
		return h('div', { class: 'check' }, box, h('label', { for: box.id }, label), err);
	}

	/* default_value, typed by the definition's data_type; a value the type refuses is kept
	 * as text, for the API to name. */
	function defaultField(def, path) {
		if (!def.data_type || !TYPES.includes(def.data_type)) return null;
		const vi = valueInput(def, { label: 'Default value', value: def.default_value });
		vi.control.addEventListener('change', () => {
			try {
				const v = vi.read();
				if (v === undefined) delete def.default_value;
				else def.default_value = v;
			} catch (e) {
				// Kept as close to the type as it goes, for the API to name what is wrong.
				const raw = vi.control.value.trim();
				def.default_value = NUMERIC.has(def.data_type) && raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
			}
			changed();
		});
		const err = vi.el.querySelector('.field-error');
		place(path, err, vi.control);
		return vi.el;
	}

	function nodeError(path) {
		const err = h('p', { class: 'path-error', hidden: true, role: 'alert' });
		place(path, err, null);
		return err;
	}

	function removeButton(label, list, i, focusPath) {
		return h('button', { type: 'button', class: 'danger secondary small', 'aria-label': label, onclick: () => {
			list.splice(i, 1);
			changed();
			render(focusPath);
		} }, 'Remove');
	}

	/* A node's legend ("Property flow", "Property #2" while unnamed) and its Remove button,
	 * both following the name as it is typed: retitle() is the name field's onChange. */
	function titled(noun, obj, key, i, list, focusPath) {
		const text = () => `${noun} ${obj[key] || `#${i + 1}`}`;
		const legend = h('legend', {}, text());
		const remove = removeButton(`Remove ${text()}`, list, i, focusPath);
		const retitle = () => {
			legend.textContent = text();
			remove.setAttribute('aria-label', `Remove ${text()}`);
		};
		return { legend, remove, retitle };
	}

	/* A property or a para: the fields of a data definition. */
	function definition(def, nameKey, path, noun, list, i, parentPath) {
		const retype = () => render(`${path}.data_type`);
		const type = def.data_type;
		const t = titled(noun, def, nameKey, i, list, parentPath);
		const nameField = bound(def, nameKey, `${noun} name`, `${path}.${nameKey}`, { onChange: t.retitle });
		return h('fieldset', { class: 'item' }, t.legend,
			h('div', { class: 'item-head' }, t.remove),
			nodeError(path),
			h('div', { class: 'form-row' },
				nameField,
				select(def, 'data_type', 'Data type', `${path}.data_type`, TYPES, { blank: '— choose —', onChange: retype }),
				noun === 'Property' ? select(def, 'method', 'Method', `${path}.method`, METHODS, { blank: '(none)' }) : null,
				NUMERIC.has(type) || def.min !== undefined ? bound(def, 'min', 'Min', `${path}.min`, { kind: 'number' }) : null,
				NUMERIC.has(type) || def.max !== undefined ? bound(def, 'max', 'Max', `${path}.max`, { kind: 'number' }) : null,
				NUMERIC.has(type) || def.step !== undefined ? bound(def, 'step', 'Step', `${path}.step`, { kind: 'number' }) : null,
				bound(def, 'unit', 'Unit', `${path}.unit`),
				type === 'string' || type === 'string list' || def.max_length !== undefined ? bound(def, 'max_length', 'Max length', `${path}.max_length`, { kind: 'int' }) : null,
				type === 'enum' || def.enum_list !== undefined ? bound(def, 'enum_list', 'Enum values', `${path}.enum_list`, { kind: 'list', hint: 'comma-separated' }) : null,
				defaultField(def, `${path}.default_value`),
				checkbox(def, 'required', 'Required', `${path}.required`)));
	}

	function defList(owner, key, nameKey, path, noun, addLabel) {
		if (!Array.isArray(owner[key])) owner[key] = [];
		const list = owner[key];
		const add = h('button', { type: 'button', class: 'secondary small' }, addLabel);
		add.addEventListener('click', () => {
			list.push({ [nameKey]: '', data_type: 'int' });
			changed();
			render(`${path}.${key}[${list.length - 1}].${nameKey}`);
		});
		return [list.map((d, i) => definition(d, nameKey, `${path}.${key}[${i}]`, noun, list, i, path)), h('div', { class: 'actions' }, add)];
	}

	function command(cmd, path, list, i, servicePath) {
		const t = titled('Command', cmd, 'command_name', i, list, servicePath);
		if (!Array.isArray(cmd.responses)) cmd.responses = [];
		const addResp = h('button', { type: 'button', class: 'secondary small' }, 'Add response');
		addResp.addEventListener('click', () => {
			cmd.responses.push({ response_name: '', paras: [] });
			changed();
			render(`${path}.responses[${cmd.responses.length - 1}].response_name`);
		});
		return h('fieldset', { class: 'item' }, t.legend,
			h('div', { class: 'item-head' }, t.remove),
			nodeError(path),
			h('div', { class: 'form-row' }, bound(cmd, 'command_name', 'Command name', `${path}.command_name`, { onChange: t.retitle })),
			h('h4', {}, 'Paras'),
			nodeError(`${path}.paras`),
			defList(cmd, 'paras', 'para_name', path, 'Para', 'Add para'),
			h('h4', {}, 'Responses'),
			nodeError(`${path}.responses`),
			cmd.responses.map((r, j) => {
				const rp = `${path}.responses[${j}]`;
				const rt = titled('Response', r, 'response_name', j, cmd.responses, path);
				return h('fieldset', { class: 'item' }, rt.legend,
					h('div', { class: 'item-head' }, rt.remove),
					nodeError(rp),
					h('div', { class: 'form-row' }, bound(r, 'response_name', 'Response name', `${rp}.response_name`, { onChange: rt.retitle })),
					defList(r, 'paras', 'para_name', rp, 'Para', 'Add response para'));
			}),
			h('div', { class: 'actions' }, addResp));
	}

	function service(svc, i) {
		const path = `service_capabilities[${i}]`;
		if (!Array.isArray(svc.commands)) svc.commands = [];
		const t = titled('Service', svc, 'service_id', i, caps, null);
		const addCmd = h('button', { type: 'button', class: 'secondary small' }, 'Add command');
		addCmd.addEventListener('click', () => {
			svc.commands.push({ command_name: '', paras: [] });
			changed();
			render(`${path}.commands[${svc.commands.length - 1}].command_name`);
		});
		return h('fieldset', { class: 'svc' }, t.legend,
			h('div', { class: 'item-head' }, t.remove),
			nodeError(path),
			h('div', { class: 'form-row' },
				bound(svc, 'service_id', 'Service ID', `${path}.service_id`, { onChange: t.retitle }),
				bound(svc, 'service_type', 'Service type', `${path}.service_type`),
				select(svc, 'option', 'Option', `${path}.option`, OPTIONS, { blank: '(none)' }),
				bound(svc, 'description', 'Description', `${path}.description`)),
			h('h3', {}, 'Properties'),
			nodeError(`${path}.properties`),
			defList(svc, 'properties', 'property_name', path, 'Property', 'Add property'),
			h('h3', {}, 'Commands'),
			nodeError(`${path}.commands`),
			svc.commands.map((c, k) => command(c, `${path}.commands[${k}]`, svc.commands, k, path)),
			h('div', { class: 'actions' }, addCmd));
	}

	/* The object and resource a mapping's path names, from the object models. */
	function describePath(text, out) {
		const m = /^\/?(\d+)\/(\d+)\/(\d+)$/.exec(text.trim());
		if (!m) {
			out.textContent = 'object/instance/resource, e.g. 3303/0/5700';
			return;
		}
		api.models.get(Number(m[1])).then((obj) => {
			if (!obj) {
				out.textContent = `object ${m[1]} is not known to the server: its value arrives as text`;
				return;
			}
			const r = (obj.resources || []).find((x) => x.id === Number(m[3]));
			out.textContent = `${obj.name} / ${r ? `${r.name} (${r.type}, ${r.operations})` : `resource ${m[3]} not in the model`}`;
		}).catch(() => {});
	}

	function mapping(mp, i) {
		const path = `resource_mappings[${i}]`;
		const svc = caps.find((s) => s.service_id === mp.service_id);
		const hint = h('small', { class: 'hint' });
		const pathField = bound(mp, 'path', 'Resource path', `${path}.path`, { placeholder: '3303/0/5700', onChange: () => describePath(mp.path || '', hint) });
		pathField.querySelector('input').after(hint);
		describePath(mp.path || '', hint);
		return h('fieldset', { class: 'item' }, h('legend', {}, `Mapping ${i + 1}`),
			h('div', { class: 'item-head' }, h('button', { type: 'button', class: 'danger secondary small', 'aria-label': `Remove mapping ${i + 1}`, onclick: () => { maps.splice(i, 1); changed(); render(); } }, 'Remove')),
			nodeError(path),
			h('div', { class: 'form-row wide' },
				pathField,
				select(mp, 'service_id', 'Service', `${path}.service_id`, caps.map((s) => s.service_id).filter(Boolean), { blank: '— choose —', onChange: () => render(`${path}.service_id`) }),
				select(mp, 'property_name', 'Property', `${path}.property_name`, svc ? (svc.properties || []).map((p) => p.property_name).filter(Boolean) : [], { blank: '— choose —' })));
	}

	function render(focusPath) {
		places = new Map();
		put(form,
			nodeError('service_capabilities'),
			caps.length ? caps.map(service) : h('p', { class: 'muted' }, 'No services yet. A service groups the properties a device reports and the commands it takes.'));
		const addMap = h('button', { type: 'button', class: 'secondary small' }, 'Add mapping');
		addMap.addEventListener('click', () => {
			maps.push({ path: '', service_id: caps[0] ? caps[0].service_id : '', property_name: '' });
			changed();
			render(`resource_mappings[${maps.length - 1}].path`);
		});
		put(mapsBox,
			nodeError('resource_mappings'),
			maps.length ? maps.map(mapping) : h('p', { class: 'muted' }, 'No mappings. A product whose devices speak standard objects (e.g. 3303 Temperature) maps resources to properties: each mapped resource is observed when the device registers.'),
			h('div', { class: 'actions' }, addMap));
		if (focusPath && places.has(focusPath) && places.get(focusPath).control) places.get(focusPath).control.focus();
	}

	/* Shows the API's error beside the place it names: the field, else the nearest node. */
	function showError(err) {
		const m = /^([a-z_]+(?:\[\d+\]|\.[a-z_]+)*)\s*:\s*(.*)$/s.exec(err.message);
		if (!m) return false;
		let path = m[1];
		while (path && !places.has(path)) {
			const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
			path = cut > 0 ? path.slice(0, cut) : '';
		}
		if (!path) return false;
		const p = places.get(path);
		// A path above the field names it in the message: keep the whole text there.
		p.err.textContent = path === m[1] ? m[2] : err.message;
		p.err.hidden = false;
		if (p.control) {
			p.control.setAttribute('aria-invalid', 'true');
			p.control.focus();
		} else {
			p.err.scrollIntoView({ block: 'center' });
		}
		return true;
	}

	function clearErrors() {
		for (const p of places.values()) {
			p.err.hidden = true;
			p.err.textContent = '';
			if (p.control) p.control.removeAttribute('aria-invalid');
		}
		errors.clear();
	}

	save.addEventListener('click', async () => {
		clearErrors();
		save.disabled = true;
		const body = { service_capabilities: caps, resource_mappings: maps };
		const p = await saved.run(() => api.products.update(product.product_id, body), {
			pending: 'Saving the model…',
			doneText: () => 'Model saved.',
			error: (err) => {
				const near = err.status === 400 && showError(err);
				return near ? h('p', { class: 'note' }, 'Shown beside the field it names.') : null;
			},
		});
		save.disabled = false;
		if (p) {
			caps = clone(p.service_capabilities || []);
			maps = clone(p.resource_mappings || []);
			dirty = false;
			status.textContent = '';
			render();
			onSaved(p);
		}
	});

	addService.addEventListener('click', () => {
		caps.push({ service_id: '', properties: [], commands: [] });
		changed();
		render(`service_capabilities[${caps.length - 1}].service_id`);
	});

	exportBtn.addEventListener('click', () => {
		const doc = { service_capabilities: caps };
		if (maps.length) doc.resource_mappings = maps;
		download(`${product.product_id}-model.json`, `${JSON.stringify(doc, null, 2)}\n`);
		status.textContent = `Exported ${product.product_id}-model.json.`;
	});

	function take(doc, source) {
		const m = modelFrom(doc);
		caps = clone(m.caps);
		if (m.maps) maps = clone(m.maps);
		changed();
		clearErrors();
		render();
		status.textContent = `${source}: ${caps.length} service${caps.length === 1 ? '' : 's'}. Not saved yet.`;
	}

	importInput.addEventListener('change', async () => {
		const file = importInput.files[0];
		if (!file) return;
		errors.clear();
		try {
			take(JSON.parse(await file.text()), `Imported ${file.name}`);
		} catch (e) {
			errors.show(e.message, `Could not import ${file.name}`);
		}
		importInput.value = '';
	});

	jsonDetails.addEventListener('toggle', () => {
		if (jsonDetails.open) {
			jsonEditor.clearError();
			jsonEditor.value = JSON.stringify({ service_capabilities: caps, resource_mappings: maps }, null, 2);
		}
	});
	applyJson.addEventListener('click', () => {
		jsonEditor.clearError();
		const text = jsonEditor.value;
		let doc;
		try {
			doc = JSON.parse(text);
		} catch (e) {
			jsonEditor.markError(`Not JSON: ${e.message}`, jsonErrorLine(text, e));
			return;
		}
		try {
			take(doc, 'Applied the JSON');
		} catch (e) {
			jsonEditor.markError(e.message);
		}
	});

	render();
	const el = h('div', {},
		h('section', { class: 'card', 'aria-labelledby': 'model-h' },
			h('div', { class: 'section-head' }, h('h2', { id: 'model-h' }, 'Model'), status),
			h('p', { class: 'note' }, 'What the devices report (properties) and can be told (commands), per service, as IoTDA\'s service_capabilities.'),
			h('div', { class: 'toolbar' }, addService, exportBtn, importInput, importLabel),
			form,
			jsonDetails),
		h('section', { class: 'card', 'aria-labelledby': 'maps-h' },
			h('h2', { id: 'maps-h' }, 'Resource mappings'),
			mapsBox),
		h('div', { class: 'card sticky-save' }, errors.el, h('div', { class: 'actions' }, save, h('span', { class: 'muted' }, 'Saves the model and the mappings together.')), saved.el));
	return { el, isDirty: () => dirty };
}
