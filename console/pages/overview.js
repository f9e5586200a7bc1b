/*
 * Overview: the fleet at a glance — devices by status, registrations, reports and
 * commands per minute (from two samples of the counters of GET …/statistics, taken
 * 10 s apart and kept for a minute), command outcomes, push deliveries and backlog, and
 * the project's live events.
 */
import * as api from '../api.js';
import { h, s, put, fmtDuration, fmtTime } from '../dom.js';
import { errorBox } from '../widgets/error-box.js';
import { eventFeed } from '../widgets/event-feed.js';

const SAMPLE_MS = 10000;
const WINDOW_MS = 60000;

function n(v) {
	return typeof v === 'number' ? v.toLocaleString('en') : '—';
}

function stat(label, value, sub) {
	return h('div', { class: 'stat' }, h('dt', {}, label), h('dd', {}, value, sub ? h('small', {}, ` ${sub}`) : null));
}

/* A stacked bar of the device statuses, with its numbers in words for a screen reader. */
function statusBar(d) {
	const total = d.total || 0;
	const asleep = d.asleep || 0;
	// Asleep devices are counted among the online ones when the other three make the total.
	const within = (d.online || 0) + (d.offline || 0) + (d.inactive || 0) === total;
	const parts = [
		['online', within ? Math.max(0, (d.online || 0) - asleep) : d.online || 0, within ? 'online, awake' : 'online'],
		['asleep', asleep, within ? 'online, asleep' : 'asleep'],
		['offline', d.offline || 0, 'offline'],
		['inactive', d.inactive || 0, 'inactive'],
	];
	const W = 600;
	const svg = s('svg', { class: 'bars', viewBox: `0 0 ${W} 24`, role: 'img', 'aria-label': parts.map(([, v, t]) => `${v} ${t}`).join(', ') });
	if (!total) {
		svg.append(s('rect', { x: 0, y: 0, width: W, height: 24, class: 'seg-none' }));
		return svg;
	}
	let x = 0;
	for (const [cls, v, t] of parts) {
		if (!v) continue;
		const w = (v / total) * W;
		svg.append(s('rect', { x: x.toFixed(2), y: 0, width: w.toFixed(2), height: 24, class: `seg-${cls}` }, s('title', {}, `${v} ${t}`)));
		x += w;
	}
	return svg;
}

export default async function overviewPage(root, ctx) {
	ctx.setTitle('Overview');
	const errors = errorBox();
	const devicesBox = h('div');
	const ratesBox = h('div');
	const commandsBox = h('div');
	const pushBox = h('div');
	const updated = h('span', { class: 'muted', role: 'status' });
	const feed = eventFeed({ title: 'Live events', showDevice: true });
	const samples = []; // {t, c}: counters over time, for the rates

	root.append(
		h('div', { class: 'page-head' }, h('h1', {}, 'Overview'), updated),
		errors.el,
		h('div', { class: 'grid two' },
			h('section', { class: 'card', 'aria-labelledby': 'ov-dev' }, h('h2', { id: 'ov-dev' }, 'Devices'), devicesBox),
			h('section', { class: 'card', 'aria-labelledby': 'ov-rates' }, h('h2', { id: 'ov-rates' }, 'Per minute'), ratesBox),
			h('section', { class: 'card', 'aria-labelledby': 'ov-cmd' }, h('h2', { id: 'ov-cmd' }, 'Command outcomes'), commandsBox),
			h('section', { class: 'card', 'aria-labelledby': 'ov-push' }, h('h2', { id: 'ov-push' }, 'Push to applications'), pushBox)),
		h('div', { class: 'card' }, feed.el));

	function showDevices(d, source) {
		put(devicesBox,
			h('dl', { class: 'stats' },
				stat('Total', n(d.total)),
				stat('Online', n(d.online)),
				stat('Asleep', n(d.asleep), 'queue mode'),
				stat('Offline', n(d.offline)),
				stat('Inactive', n(d.inactive), 'never connected')),
			statusBar(d),
			h('p', { class: 'note' }, source, ' ', h('a', { href: '#/devices' }, 'All devices'), ' · ',
				h('a', { href: '#/devices?status=ONLINE' }, 'online'), ' · ', h('a', { href: '#/devices?status=OFFLINE' }, 'offline')));
	}

	function rate(pick) {
		if (samples.length < 2) return null;
		const last = samples[samples.length - 1];
		const first = samples[0];
		const a = pick(first.c);
		const b = pick(last.c);
		if (typeof a !== 'number' || typeof b !== 'number' || last.t === first.t) return null;
		return ((b - a) / (last.t - first.t)) * 60000;
	}

	function showRates() {
		const span = samples.length >= 2 ? samples[samples.length - 1].t - samples[0].t : 0;
		const r = (pick) => {
			const v = rate(pick);
			return v === null ? '…' : v < 10 ? v.toFixed(1) : Math.round(v).toLocaleString('en');
		};
		put(ratesBox,
			h('dl', { class: 'stats' },
				stat('Registrations', r((c) => c.registrations)),
				stat('Updates', r((c) => c.updates)),
				stat('Reports', r((c) => c.reports)),
				stat('Commands', r((c) => c.commands && c.commands.created)),
				stat('Deregistrations', r((c) => c.deregistrations))),
			h('p', { class: 'note' }, samples.length < 2
				? `Measuring: the rates need a second sample of the counters (${SAMPLE_MS / 1000} s).`
				: `Over the last ${fmtDuration(span)}, from the daemon's counters.`));
	}

	async function sample() {
		try {
			const st = await api.statistics(ctx.signal);
			errors.clear();
			const now = st.time_ms;
			samples.push({ t: now, c: st.counters });
			while (samples.length > 2 && now - samples[1].t >= WINDOW_MS) samples.shift();
			showDevices(st.devices, `Counters since ${fmtTime(st.since)}.`);
			showRates();
			const c = st.counters.commands;
			put(commandsBox, h('dl', { class: 'stats' },
				stat('Created', n(c.created)), stat('Successful', n(c.successful)), stat('Failed', n(c.failed)),
				stat('Timed out', n(c.timeout)), stat('Expired', n(c.expired))),
			h('p', { class: 'note' }, 'Totals since the daemon started.'));
			const p = st.counters.push;
			put(pushBox, h('dl', { class: 'stats' },
				stat('Delivered', n(p.delivered)), stat('Failed', n(p.failed)), stat('Dropped', n(p.dropped)), stat('Backlog', n(p.backlog), 'queued now')),
			h('p', { class: 'note' }, h('a', { href: '#/rules' }, 'Forwarding rules'), ' show each rule\'s own.'));
			updated.textContent = `Updated ${new Date(now).toISOString().slice(11, 19)}Z`;
		} catch (err) {
			if (!err.aborted) errors.show(err, 'Could not load the statistics');
		}
	}

	put(devicesBox, h('p', { class: 'muted' }, 'Loading…'));
	showRates();
	sample();
	const timer = setInterval(sample, SAMPLE_MS);
	const stream = api.events({ onEvent: feed.push, onState: feed.state, signal: ctx.signal });
	ctx.signal.addEventListener('abort', () => {
		clearInterval(timer);
		stream.close();
	});
}
