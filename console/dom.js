/*
 * dom: the console's one DOM helper. h(tag, attrs, ...children) builds an element; s()
 * the same in the SVG namespace. No templates and no innerHTML anywhere, so text from the
 * API (names, error messages, device values) is always text, never markup; and no style
 * attributes, so the Content-Security-Policy can forbid inline styles.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

// Properties rather than attributes: they reflect the live state of a control.
const PROPS = new Set(['value', 'checked', 'selected', 'disabled', 'indeterminate']);

function build(el, attrs, children) {
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false) continue;
		if (k === 'style') throw new Error('h(): no inline styles (CSP); use a class');
		if (k.startsWith('on') && typeof v === 'function') {
			el.addEventListener(k.slice(2), v);
		} else if (PROPS.has(k)) {
			el[k] = v;
		} else {
			el.setAttribute(k, v === true ? '' : String(v));
		}
	}
	append(el, children);
	return el;
}

/* Appends children: nodes, strings and numbers (as text), arrays (flattened); skips
 * null, undefined and false. */
export function append(el, children) {
	for (const c of children) {
		if (c === null || c === undefined || c === false) continue;
		if (Array.isArray(c)) append(el, c);
		else el.append(c instanceof Node ? c : String(c));
	}
	return el;
}

export function h(tag, attrs, ...children) {
	return build(document.createElement(tag), attrs, children);
}

export function s(tag, attrs, ...children) {
	return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

/* Replaces el's children. */
export function put(el, ...children) {
	el.replaceChildren();
	return append(el, children);
}

let nextId = 0;
/* A document-unique id, for label/for and aria-describedby. */
export function uid(prefix = 'id') {
	nextId += 1;
	return `${prefix}-${nextId}`;
}

/* A labelled control: <div class="field"><label>…</label>control<small>hint</small></div>.
 * The control gets an id (if it has none) and aria-describedby for the hint. */
export function field(label, control, hint) {
	if (!control.id) control.id = uid('f');
	const wrap = h('div', { class: 'field' }, h('label', { for: control.id }, label), control);
	if (hint) {
		const hid = uid('hint');
		wrap.append(h('small', { id: hid, class: 'hint' }, hint));
		control.setAttribute('aria-describedby', hid);
	}
	return wrap;
}

/* An API time (yyyyMMdd'T'HHmmss'Z') as "2026-11-25 04:53:21Z"; anything else as given. */
export function fmtTime(t) {
	if (typeof t !== 'string') return t === null || t === undefined ? '—' : String(t);
	const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(t);
	return m ? `${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6]}Z` : t;
}

/* Milliseconds since the epoch as the same UTC form; with seconds' tenths when precise. */
export function fmtMs(ms, precise = false) {
	if (typeof ms !== 'number') return '—';
	const iso = new Date(ms).toISOString(); // 2026-11-25T04:53:21.123Z
	return `${iso.slice(0, 10)} ${iso.slice(11, precise ? 21 : 19)}Z`;
}

/* An API time to milliseconds, or NaN. */
export function parseTime(t) {
	const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(t || '');
	return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN;
}

/* A duration in ms as "850 ms", "12.3 s", "4 min 05 s". */
export function fmtDuration(ms) {
	if (ms < 1000) return `${Math.round(ms)} ms`;
	if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
	const m = Math.floor(ms / 60000);
	const sec = Math.floor((ms % 60000) / 1000);
	return `${m} min ${String(sec).padStart(2, '0')} s`;
}

/* How long ago an instant in ms was, roughly. */
export function ago(ms) {
	if (!Number.isFinite(ms)) return '';
	const d = Date.now() - ms;
	if (d < 5000) return 'just now';
	if (d < 60000) return `${Math.round(d / 1000)} s ago`;
	if (d < 3600000) return `${Math.round(d / 60000)} min ago`;
	if (d < 86400000) return `${Math.round(d / 3600000)} h ago`;
	return `${Math.round(d / 86400000)} d ago`;
}

/* Bytes (Uint8Array or array) as hex, and back (null when not hex). */
export function toHex(bytes) {
	return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('').toUpperCase();
}
export function cleanHex(text) {
	const hex = String(text).replace(/0x|[\s,:]/gi, '');
	return /^([0-9a-f]{2})*$/i.test(hex) ? hex.toUpperCase() : null;
}

/* Offers a text as a file download (a blob: link, clicked and revoked). */
export function download(name, text, type = 'application/json') {
	const url = URL.createObjectURL(new Blob([text], { type }));
	const a = h('a', { href: url, download: name, class: 'hidden' });
	document.body.append(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/* Copies a text to the clipboard; falls back to selecting it in the given input when the
 * Clipboard API is missing (a page served over plain http from another host). */
export async function copyText(text, input) {
	if (navigator.clipboard && window.isSecureContext) {
		await navigator.clipboard.writeText(text);
		return true;
	}
	if (input) {
		input.focus();
		input.select();
		return document.execCommand('copy');
	}
	return false;
}
