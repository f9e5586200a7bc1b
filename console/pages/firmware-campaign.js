/*
 * Firmware campaign (#/firmware/campaigns/{id}): one campaign — its status and stop
 * reason, progress, counts by state, bytes served, devices per minute, estimated end and
 * settings; pause, resume, cancel (each enabled by the status) and delete once ended; the
 * target devices, filtered by state and paged by the API's marker.
 *
 * Live: the events stream's firmware and firmware_campaign events of this campaign
 * reload the view, at most once a second. While the stream is not open (an older daemon
 * refuses the types, or it is reconnecting) a campaign that has not ended is polled.
 */
import * as api from '../api.js';
import { h, put, field, fmtTime } from '../dom.js';
import { errorBox } from '../widgets/error-box.js';
import { outcome } from '../widgets/outcome.js';
import { badge } from '../widgets/badge.js';
import { confirmDialog } from '../widgets/confirm.js';
import { pagedTable } from '../widgets/paged-table.js';
import {
	ENDED_STATUSES, TARGET_STATES, campaignProgress, fmtBytes, num, packageLabel, streamState, throttle,
} from './firmware-common.js';

const PAGE = 20;
const RELOAD_MS = 1000;
const POLL_MS = 5000; // without a live stream

function stat(label, value) {
	return h('div', { class: 'stat' }, h('dt', {}, label), h('dd', {}, value));
}

function props(pairs) {
	return h('dl', { class: 'props' }, pairs.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

/* The settings as created, defaults filled in by the daemon (a list of devices is given
 * as its device_count). */
function settingsList(s = {}) {
	const t = s.targets || {};
	const targets = t.product_id
		? `every device of ${t.product_id}${t.from_versions && t.from_versions.length ? ` at ${t.from_versions.join(', ')}` : ''}`
		: typeof t.device_count === 'number' ? `${num(t.device_count)} listed devices` : '—';
	const v = (k, unit = '') => (s[k] === undefined || s[k] === null ? '—' : `${num(s[k])}${unit}`);
	return props([
		['Targets', targets],
		['Delivery', s.delivery || '—'],
		['Max concurrent', v('max_concurrent')],
		['Rate per minute', v('rate_per_minute')],
		['Retries', `${v('retries')}, first after ${v('retry_backoff_s', ' s')}, doubling`],
		['Failure threshold', `${v('failure_threshold_percent', ' %')} once ${v('failure_min_devices')} ended`],
		['Download timeout', v('download_timeout_s', ' s')],
		['Update timeout', v('update_timeout_s', ' s')],
	]);
}

export default async function campaignPage(root, ctx) {
	const id = ctx.params.campaignId;
	ctx.setTitle(`Campaign ${id}`);
	const title = h('h1', {}, `Campaign ${id}`);
	const live = h('span', { class: 'stream-state', role: 'status' }, 'connecting…');
	const errors = errorBox();
	const summary = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
	const actions = outcome();
	const pause = h('button', { type: 'button', class: 'secondary', disabled: true }, 'Pause');
	const resume = h('button', { type: 'button', class: 'secondary', disabled: true }, 'Resume');
	const cancel = h('button', { type: 'button', class: 'danger secondary', disabled: true }, 'Cancel campaign');
	const del = h('button', { type: 'button', class: 'danger secondary', disabled: true }, 'Delete campaign');
	const state = h('select', {}, h('option', { value: '' }, 'any'), TARGET_STATES.map((s) => h('option', { value: s }, s)));
	let campaign = null;
	let pkg = null;
	let streamOpen = false;
	let ctrl = null;

	const table = pagedTable({
		caption: 'The campaign\'s target devices, in the order they are started',
		pageSize: PAGE,
		key: (d) => d.device_id,
		empty: 'No target devices in this state.',
		columns: [
			{ label: 'Device', cell: (d) => h('a', { href: `#/devices/${encodeURIComponent(d.device_id)}`, class: 'mono' }, d.node_id || d.device_id) },
			{ label: 'State', cell: (d) => badge(d.state) },
			{ label: 'Reason', cell: (d) => d.reason || '—' },
			{ label: 'Result', cls: 'num', cell: (d) => (typeof d.result === 'number' ? String(d.result) : '—') },
			{ label: 'Bytes', cls: 'num', cell: (d) => fmtBytes(d.bytes) },
			{ label: 'Attempts', cls: 'num', cell: (d) => num(d.attempts) },
			{ label: 'Method', cell: (d) => d.method || '—' },
			{ label: 'Updated', cell: (d) => fmtTime(d.update_time) },
		],
		load: async (marker, signal) => {
			const query = { limit: PAGE, state: state.value || undefined };
			if (marker) query.marker = marker;
			const res = await api.campaigns.devices(id, query, signal);
			const m = res.marker;
			return { rows: res.devices || [], next: m === undefined || m === null || m === '' ? null : m };
		},
	});

	function enable(c) {
		const st = c.status;
		pause.disabled = st !== 'running';
		resume.disabled = st !== 'paused';
		cancel.disabled = st !== 'running' && st !== 'paused';
		del.disabled = !ENDED_STATUSES.includes(st);
	}

	function render(c) {
		campaign = c;
		title.textContent = `Campaign ${c.name || c.campaign_id}`;
		ctx.setTitle(`${c.name || c.campaign_id} (campaign)`);
		enable(c);
		const counts = c.counts || {};
		put(summary,
			h('div', { class: 'fw-status' }, h('span', {}, 'Status '), badge(c.status),
				c.stop_reason ? h('span', { class: 'stop-reason' }, ` — ${c.stop_reason}`) : null),
			campaignProgress(c),
			h('h3', {}, 'Targets by state'),
			h('dl', { class: 'stats', 'aria-label': 'Targets by state' },
				stat('Targets', num(c.targets)), TARGET_STATES.map((s) => stat(s[0].toUpperCase() + s.slice(1), num(counts[s] || 0)))),
			h('div', { class: 'grid two' },
				h('div', {}, h('h3', {}, 'Progress'), props([
					['Package', pkg ? `${packageLabel(pkg)} (${fmtBytes(pkg.size)})` : h('span', { class: 'mono' }, c.package_id)],
					['Bytes served', `${fmtBytes(c.bytes_served)} (${num(c.bytes_served)} B)`],
					['Devices per minute', typeof c.devices_per_minute === 'number' ? c.devices_per_minute.toFixed(1) : '—'],
					['Created', fmtTime(c.create_time)],
					['Started', fmtTime(c.start_time)],
					['Ended', c.end_time ? fmtTime(c.end_time) : '—'],
					['Estimated end', c.estimated_end_time && !c.end_time ? fmtTime(c.estimated_end_time) : '—'],
					['Stop reason', c.stop_reason || '—'],
					['Campaign ID', h('span', { class: 'mono' }, c.campaign_id)],
				])),
				h('div', {}, h('h3', {}, 'Settings'), settingsList(c.settings))));
	}

	async function load() {
		if (ctrl) ctrl.abort();
		ctrl = new AbortController();
		const mine = ctrl;
		try {
			const c = await api.campaigns.get(id, mine.signal);
			if (mine !== ctrl) return;
			if (!pkg || pkg.package_id !== c.package_id)
				pkg = await api.firmware.get(c.package_id, mine.signal).catch((e) => {
					if (e.aborted) throw e;
					return null; // deleted since: the campaign names its id
				});
			if (mine !== ctrl) return;
			errors.clear();
			render(c);
		} catch (err) {
			if (!err.aborted) errors.show(err, 'Could not load the campaign');
		}
	}

	const reload = throttle(() => {
		load();
		table.refresh();
	}, RELOAD_MS);

	/* Runs one of the campaign's actions; the answer is the campaign when it is one. */
	async function act(fn, pending, done) {
		const r = await actions.run(fn, { pending, doneText: () => done });
		if (r === undefined) return;
		if (r && r.campaign_id === id) render(r);
		reload.schedule();
	}

	pause.addEventListener('click', () => act(() => api.campaigns.pause(id), 'Pausing…', 'Paused: no new device starts; those updating go on.'));
	resume.addEventListener('click', () => act(() => api.campaigns.resume(id), 'Resuming…', 'Resumed.'));
	cancel.addEventListener('click', async () => {
		const ok = await confirmDialog({
			title: 'Cancel this campaign?',
			message: 'Devices not yet updated are not updated: every target that has not ended is cancelled. A cancelled campaign cannot be resumed.',
			confirm: 'Cancel campaign',
		});
		if (ok) act(() => api.campaigns.cancel(id), 'Cancelling…', 'Cancelled.');
	});
	del.addEventListener('click', async () => {
		const ok = await confirmDialog({ title: 'Delete this campaign?', message: 'Its record and the state of each of its devices are deleted.', confirm: 'Delete campaign' });
		if (!ok) return;
		const r = await actions.run(() => api.campaigns.remove(id), { pending: 'Deleting…', doneText: () => 'Deleted.' });
		if (r !== undefined) location.hash = '#/firmware';
	});
	state.addEventListener('change', () => table.reload());
	const refresh = h('button', { type: 'button', class: 'secondary' }, 'Refresh');
	refresh.addEventListener('click', () => reload.schedule());

	root.append(
		h('p', { class: 'crumbs' }, h('a', { href: '#/firmware' }, 'Firmware'), ' / ', h('span', { class: 'mono' }, id)),
		h('div', { class: 'page-head' }, title, live, refresh),
		errors.el,
		h('section', { class: 'card', 'aria-label': 'Campaign' },
			h('div', { class: 'actions' }, pause, resume, cancel, del),
			actions.el,
			summary),
		h('section', { class: 'card', 'aria-labelledby': 'fw-targets-h' },
			h('div', { class: 'section-head' }, h('h2', { id: 'fw-targets-h' }, 'Target devices'),
				h('div', { class: 'toolbar' }, field('State', state))),
			table.el));

	await load();
	if (ctx.signal.aborted) return;
	table.reload();

	const stream = api.events({
		signal: ctx.signal,
		types: ['firmware', 'firmware_campaign'],
		onState: (s) => {
			streamState(live, s);
			streamOpen = s.state === 'open';
		},
		onEvent: ({ data }) => {
			// An event names its campaign; one that does not may still be about it.
			if (data && typeof data === 'object' && data.campaign_id && data.campaign_id !== id) return;
			reload.schedule();
		},
	});
	const poll = setInterval(() => {
		if (!streamOpen && campaign && !ENDED_STATUSES.includes(campaign.status)) reload.schedule();
	}, POLL_MS);
	ctx.signal.addEventListener('abort', () => {
		clearInterval(poll);
		reload.cancel();
		stream.close();
		table.stop();
		if (ctrl) ctrl.abort();
	});
}
