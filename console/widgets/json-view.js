/*
 * json-view: a JSON value shown pretty-printed, keys, strings and numbers told apart by
 * class (never by inline style), in a focusable <pre> a keyboard can scroll.
 */
import { h } from '../dom.js';

const TOKEN = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;

export function jsonText(value) {
	return JSON.stringify(value, null, 2);
}

export function jsonView(value, { label = 'JSON', cls = '' } = {}) {
	const text = typeof value === 'string' ? value : jsonText(value);
	const pre = h('pre', { class: `json ${cls}`, tabindex: 0, 'aria-label': label });
	let last = 0;
	for (const m of (text || '').matchAll(TOKEN)) {
		if (m.index > last) pre.append(text.slice(last, m.index));
		if (m[1] && m[2]) pre.append(h('span', { class: 'j-key' }, m[1]), m[2]);
		else if (m[1]) pre.append(h('span', { class: 'j-str' }, m[1]));
		else if (m[3]) pre.append(h('span', { class: 'j-lit' }, m[3]));
		else pre.append(h('span', { class: 'j-num' }, m[4]));
		last = m.index + m[0].length;
	}
	if (last < (text || '').length) pre.append(text.slice(last));
	return pre;
}
