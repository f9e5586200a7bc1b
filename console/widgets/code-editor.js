/*
 * code-editor: a <textarea> with a line-number gutter, for codec sources. Lines do not
 * wrap, so gutter and text stay aligned; the gutter scrolls with the text. markError(line)
 * marks a line in the gutter, says it under the editor and can put the caret on it. Tab
 * is left to the browser, so the keyboard can always leave the editor.
 */
import { h, put, uid } from '../dom.js';

export function codeEditor({ label, value = '', rows = 18 } = {}) {
	const id = uid('code');
	const errId = uid('codeerr');
	const gutter = h('div', { class: 'gutter', 'aria-hidden': 'true' });
	const ta = h('textarea', { id, rows, wrap: 'off', spellcheck: 'false', autocapitalize: 'off', autocomplete: 'off', class: 'code', 'aria-describedby': errId });
	ta.value = value;
	const err = h('div', { id: errId, class: 'code-error', hidden: true });
	const el = h('div', { class: 'code-editor' }, h('label', { for: id }, label), h('div', { class: 'code-wrap' }, gutter, ta), err);
	let errLine = 0;
	let count = 0;

	function renderGutter() {
		const n = Math.max(1, ta.value.split('\n').length);
		if (n === count && !gutter.dataset.dirty) return;
		count = n;
		delete gutter.dataset.dirty;
		const frag = document.createDocumentFragment();
		for (let i = 1; i <= n; i++) frag.append(h('div', { class: i === errLine ? 'ln err' : 'ln' }, String(i)));
		put(gutter, frag);
		gutter.scrollTop = ta.scrollTop;
	}

	/* Puts the caret at the start of line n (1-based) and selects the line. */
	function goTo(n) {
		const lines = ta.value.split('\n');
		let start = 0;
		for (let i = 0; i < n - 1 && i < lines.length; i++) start += lines[i].length + 1;
		const end = start + (lines[n - 1] || '').length;
		ta.focus();
		ta.setSelectionRange(start, end);
		const lh = ta.scrollHeight / Math.max(1, lines.length);
		ta.scrollTop = Math.max(0, (n - 3) * lh);
	}

	ta.addEventListener('input', renderGutter);
	ta.addEventListener('scroll', () => {
		gutter.scrollTop = ta.scrollTop;
	});
	renderGutter();

	return {
		el,
		textarea: ta,
		get value() {
			return ta.value;
		},
		set value(v) {
			ta.value = v;
			renderGutter();
			ta.scrollTop = 0;
		},
		/* Marks line n (0 or absent: no line) and shows msg; the message's button goes there. */
		markError(msg, n) {
			errLine = n || 0;
			gutter.dataset.dirty = '1';
			renderGutter();
			put(err, h('span', { role: 'alert' }, n ? `Line ${n}: ${msg}` : msg), n ? [' ', h('button', { type: 'button', class: 'small secondary', onclick: () => goTo(n) }, `Go to line ${n}`)] : null);
			err.hidden = false;
			ta.setAttribute('aria-invalid', 'true');
			if (n) {
				const lh = ta.scrollHeight / Math.max(1, count);
				ta.scrollTop = Math.max(0, (n - 3) * lh);
			}
		},
		clearError() {
			errLine = 0;
			gutter.dataset.dirty = '1';
			renderGutter();
			put(err);
			err.hidden = true;
			ta.removeAttribute('aria-invalid');
		},
		goTo,
	};
}
