/*
 * outcome: what became of an action — pending (with the time it has waited, which for a
 * call held for a sleeping device can be minutes, and a Cancel), then the answer or the
 * API's error. One per action area; run() again replaces the last outcome.
 *
 * The message sits in a polite live region; the ticking time is outside it, so a screen
 * reader hears "Waiting…" and the result, not every tenth of a second.
 */
import { h, put, fmtDuration } from '../dom.js';
import { errorText } from './error-box.js';

export function outcome({ cls = '' } = {}) {
	const msg = h('div', { class: 'outcome-msg', role: 'status' });
	const elapsed = h('span', { class: 'elapsed' });
	const cancel = h('button', { type: 'button', class: 'small', hidden: true }, 'Cancel');
	const body = h('div', { class: 'outcome-body' });
	const el = h('div', { class: `outcome ${cls}`, hidden: true }, h('div', { class: 'outcome-line' }, msg, elapsed, cancel), body);
	let current = null;

	/*
	 * Runs fn(signal) and shows its fate. opts: pending (the text while it waits), note
	 * (a line under it, e.g. "the device is asleep"), done(answer, ms) → a node or text
	 * for the answer, error(err) → an optional node beside the message. Resolves to the
	 * answer, or undefined when it failed or was cancelled.
	 */
	async function run(fn, opts = {}) {
		if (current) current.abort();
		const ctrl = new AbortController();
		current = ctrl;
		const start = performance.now();
		el.hidden = false;
		el.classList.remove('ok', 'bad');
		el.classList.add('busy');
		put(msg, h('span', { class: 'spinner', 'aria-hidden': 'true' }), opts.pending || 'Working…');
		put(body, opts.note ? h('p', { class: 'note' }, opts.note) : null);
		cancel.hidden = !opts.cancellable;
		cancel.onclick = () => ctrl.abort();
		const tick = () => {
			put(elapsed, fmtDuration(performance.now() - start));
		};
		tick();
		const timer = setInterval(tick, 100);
		try {
			const answer = await fn(ctrl.signal);
			if (current !== ctrl) return answer;
			const ms = performance.now() - start;
			el.classList.add('ok');
			put(msg, opts.doneText ? opts.doneText(answer, ms) : `Done in ${fmtDuration(ms)}`);
			put(body, opts.done ? opts.done(answer, ms) : null);
			return answer;
		} catch (err) {
			if (current !== ctrl) return undefined;
			el.classList.add('bad');
			if (err.aborted) {
				put(msg, 'Cancelled.');
				put(body);
			} else {
				put(msg, h('span', { role: 'alert', class: 'error-text' }, errorText(err)));
				put(body, opts.error ? opts.error(err) : null);
			}
			return undefined;
		} finally {
			if (current === ctrl) {
				clearInterval(timer);
				current = null;
				el.classList.remove('busy');
				cancel.hidden = true;
				put(elapsed, `${fmtDuration(performance.now() - start)}`);
			} else {
				clearInterval(timer);
			}
		}
	}

	return {
		el,
		run,
		clear() {
			if (current) current.abort();
			el.hidden = true;
			put(msg);
			put(body);
			put(elapsed);
		},
		abort() {
			if (current) current.abort();
		},
	};
}
