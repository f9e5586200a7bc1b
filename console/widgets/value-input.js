/*
 * value-input: an input typed by a product model's data_type (int, long, decimal, string,
 * DateTime, jsonObject, enum, boolean, string list) or by an LwM2M resource type (integer,
 * unsigned, float, boolean, string, opaque, time, objlnk, corelnk), with the model's
 * bounds. read() gives the JSON value to send, undefined when left empty and optional,
 * or throws an Error whose message is also shown beside the input.
 */
import { h, uid } from '../dom.js';

const DATETIME = /^\d{8}T\d{6}Z$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/* An LwM2M resource type as a spec valueInput understands. */
export function resourceSpec(type) {
	switch (type) {
	case 'integer': return { data_type: 'int', lwm2m: type };
	case 'unsigned': return { data_type: 'int', min: 0, lwm2m: type };
	case 'time': return { data_type: 'int', lwm2m: type, hint: 'seconds since 1970' };
	case 'float': return { data_type: 'decimal', lwm2m: type };
	case 'boolean': return { data_type: 'boolean', lwm2m: type };
	case 'opaque': return { data_type: 'string', lwm2m: type, hint: 'base64 (e.g. AQID for 01 02 03)' };
	case 'objlnk': return { data_type: 'string', lwm2m: type, hint: 'object:instance, e.g. 11:0' };
	default: return { data_type: 'string', lwm2m: type || 'string' };
	}
}

function num(v) {
	if (v === undefined || v === null || v === '') return undefined;
	const n = Number(v);
	return Number.isFinite(n) ? n : undefined;
}

/* Text for a value in its input. */
function shown(spec, v) {
	if (v === undefined || v === null) return '';
	if (spec.data_type === 'jsonObject') return typeof v === 'string' ? v : JSON.stringify(v);
	if (spec.data_type === 'string list') return Array.isArray(v) ? v.join('\n') : String(v);
	return String(v);
}

/* A short description of the bounds: "int, 1 … 65535, s". */
export function describe(spec) {
	const parts = [spec.lwm2m || spec.data_type];
	const min = num(spec.min);
	const max = num(spec.max);
	if (min !== undefined || max !== undefined) parts.push(`${min ?? '−∞'} … ${max ?? '∞'}`);
	if (spec.step) parts.push(`step ${spec.step}`);
	if (spec.max_length) parts.push(`at most ${spec.max_length} characters`);
	if (spec.unit) parts.push(spec.unit);
	if (spec.data_type === 'DateTime') parts.push('yyyyMMddTHHmmssZ');
	if (spec.data_type === 'string list') parts.push('one per line');
	if (spec.hint) parts.push(spec.hint);
	return parts.join(', ');
}

export function valueInput(spec, { label, value, required = false, name } = {}) {
	const t = spec.data_type;
	const id = uid('v');
	let control;
	if (t === 'enum') {
		control = h('select', { id, name }, required ? null : h('option', { value: '' }, '—'),
			(spec.enum_list || []).map((e) => h('option', { value: e }, e)));
	} else if (t === 'boolean') {
		control = h('select', { id, name }, required ? null : h('option', { value: '' }, '—'),
			h('option', { value: 'true' }, 'true'), h('option', { value: 'false' }, 'false'));
	} else if (t === 'jsonObject' || t === 'string list') {
		control = h('textarea', { id, name, rows: 3, spellcheck: 'false', class: 'mono',
			placeholder: t === 'jsonObject' ? '{"key": "value"}' : 'one item per line' });
	} else if (t === 'int' || t === 'long' || t === 'decimal') {
		control = h('input', {
			id, name, type: 'number',
			step: spec.step ? String(spec.step) : t === 'decimal' ? 'any' : '1',
			min: num(spec.min), max: num(spec.max), inputmode: t === 'decimal' ? 'decimal' : 'numeric',
		});
	} else {
		control = h('input', {
			id, name, type: 'text', autocomplete: 'off', spellcheck: 'false',
			maxlength: spec.max_length || undefined,
			placeholder: t === 'DateTime' ? '20261125T101500Z' : spec.lwm2m === 'objlnk' ? '11:0' : undefined,
		});
	}
	if (required) control.required = true;
	control.value = shown(spec, value);
	const hintId = uid('h');
	const errId = uid('e');
	const err = h('small', { id: errId, class: 'field-error', hidden: true });
	control.setAttribute('aria-describedby', `${hintId} ${errId}`);
	const el = h('div', { class: 'field' },
		h('label', { for: id }, label),
		control,
		h('small', { id: hintId, class: 'hint' }, required ? 'required · ' : '', describe(spec)),
		err);

	function fail(msg) {
		err.textContent = msg;
		err.hidden = false;
		control.setAttribute('aria-invalid', 'true');
		throw new Error(`${label}: ${msg}`);
	}

	function read() {
		err.hidden = true;
		control.removeAttribute('aria-invalid');
		const raw = control.value;
		if (raw.trim() === '') {
			if (required) fail('a value is required');
			return undefined;
		}
		const min = num(spec.min);
		const max = num(spec.max);
		switch (t) {
		case 'int':
		case 'long':
		case 'decimal': {
			const n = Number(raw);
			if (!Number.isFinite(n)) fail('not a number');
			if (t !== 'decimal' && !Number.isInteger(n)) fail('must be a whole number');
			if (t === 'int' && !spec.lwm2m && (n < -2147483648 || n > 2147483647)) fail('outside 32 bits');
			if (!Number.isSafeInteger(n) && t !== 'decimal') fail('too large to send exactly');
			if (min !== undefined && n < min) fail(`must be at least ${min}`);
			if (max !== undefined && n > max) fail(`must be at most ${max}`);
			return n;
		}
		case 'boolean':
			return raw === 'true';
		case 'jsonObject': {
			let v;
			try {
				v = JSON.parse(raw);
			} catch (e) {
				fail(`not JSON: ${e.message}`);
			}
			if (v === null || typeof v !== 'object' || Array.isArray(v)) fail('must be a JSON object');
			return v;
		}
		case 'string list':
			return raw.split('\n').map((x) => x.trim()).filter((x) => x !== '');
		case 'DateTime':
			if (!DATETIME.test(raw.trim())) fail('must look like 20261125T101500Z');
			return raw.trim();
		default:
			if (spec.lwm2m === 'opaque' && !BASE64.test(raw.trim())) fail('must be base64');
			if (spec.lwm2m === 'objlnk' && !/^\d+:\d+$/.test(raw.trim())) fail('must be object:instance');
			if (spec.max_length && raw.length > spec.max_length) fail(`at most ${spec.max_length} characters`);
			return raw;
		}
	}

	return {
		el,
		control,
		read,
		set(v) {
			control.value = shown(spec, v);
		},
		/* Shows a message from the API beside the input. */
		showError(msg) {
			err.textContent = msg;
			err.hidden = false;
			control.setAttribute('aria-invalid', 'true');
		},
	};
}
