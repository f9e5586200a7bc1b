/*
 * error-box: where an action's failure is shown — the API's error_msg with its status, in
 * a role="alert" region so a screen reader says it at once.
 */
import { h, put } from '../dom.js';

/* Text for any error: an ApiError says "404 — product wm not found". */
export function errorText(err) {
	if (!err) return '';
	return typeof err.toString === 'function' && err.status !== undefined ? err.toString() : err.message || String(err);
}

export function errorBox() {
	const el = h('div', { class: 'error-box', role: 'alert', hidden: true });
	return {
		el,
		/* Shows err (an ApiError, an Error or a text), after an optional lead ("Not saved"). */
		show(err, lead) {
			const text = typeof err === 'string' ? err : errorText(err);
			put(el, lead ? h('strong', {}, `${lead}: `) : null, text);
			el.hidden = false;
		},
		clear() {
			put(el);
			el.hidden = true;
		},
	};
}
