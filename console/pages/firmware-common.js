/*
 * firmware-common: what the firmware pages share — byte sizes, a package's name, target
 * states, campaign statuses and a campaign's progress bar (docs/firmware.md).
 */
import { h } from '../dom.js';

/* A target device's states, in the order a device goes through them. */
export const TARGET_STATES = ['waiting', 'starting', 'downloading', 'downloaded', 'updating',
	'succeeded', 'failed', 'skipped', 'cancelled'];
/* The states a target does not leave: what counts as done in a campaign's progress. */
export const ENDED_STATES = ['succeeded', 'failed', 'skipped', 'cancelled'];
/* The statuses of a campaign that has ended (it can be deleted, not paused or resumed). */
export const ENDED_STATUSES = ['stopped', 'cancelled', 'finished'];

export function num(v) {
	return typeof v === 'number' ? v.toLocaleString('en') : '—';
}

/* 204800 → "200 KiB"; under 1 KiB in bytes. */
export function fmtBytes(n) {
	if (typeof n !== 'number') return '—';
	if (n < 1024) return `${n} B`;
	const units = ['KiB', 'MiB', 'GiB', 'TiB'];
	let v = n / 1024;
	let i = 0;
	while (v >= 1024 && i < units.length - 1) {
		v /= 1024;
		i += 1;
	}
	return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/* "meter 1.2.0": a package as a person names it. */
export function packageLabel(p) {
	return p ? `${p.product_id} ${p.version}` : '';
}

/* Targets that ended, whatever their outcome. */
export function endedCount(c) {
	const counts = c.counts || {};
	return ENDED_STATES.reduce((sum, s) => sum + (counts[s] || 0), 0);
}

/* A campaign's progress: a <progress> of ended targets over all, and the same in words. */
export function campaignProgress(c) {
	const done = endedCount(c);
	const total = c.targets || 0;
	const pct = total ? Math.floor((done / total) * 100) : 0;
	const words = `${num(done)} of ${num(total)} ended (${pct} %)`;
	return h('div', { class: 'fw-progress' },
		h('progress', { max: Math.max(total, 1), value: Math.min(done, Math.max(total, 1)), 'aria-label': `Progress: ${words}` }),
		h('span', { class: 'fw-progress-text' }, words));
}

/* Calls fn at most once every ms: a schedule() within ms of the last call runs it once,
 * when ms have passed. A campaign over a fleet sends many events a second; a view needs
 * one reload a second at most. cancel() drops what is pending. */
export function throttle(fn, ms) {
	let lastRun = 0;
	let timer = 0;
	const run = () => {
		timer = 0;
		lastRun = Date.now();
		fn();
	};
	return {
		schedule() {
			if (timer) return;
			const wait = lastRun + ms - Date.now();
			if (wait <= 0) run();
			else timer = setTimeout(run, wait);
		},
		cancel() {
			clearTimeout(timer);
			timer = 0;
		},
	};
}

/* The words of an events stream's state (api.events' onState), in el. */
export function streamState(el, s) {
	el.className = `stream-state s-${s.state}`;
	if (s.state === 'open') el.textContent = 'live';
	else if (s.state === 'connecting') el.textContent = 'connecting…';
	else if (s.state === 'retrying') el.textContent = 'live updates interrupted; retrying';
	else el.textContent = s.error ? `live updates stopped: ${s.error.toString()}` : 'live updates stopped';
}
