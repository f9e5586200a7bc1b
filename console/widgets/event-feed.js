/*
 * event-feed: the live events of a project or a device (api.events), newest first, each
 * with its time, kind, device and a one-line summary that opens to the whole JSON. It
 * keeps the last `max` events; events arriving fast are drawn four times a second. Pause keeps
 * the list still (events still counted), Clear empties it.
 */
import { h, put, fmtMs } from '../dom.js';
import { jsonView } from './json-view.js';

/* Events are drawn at most this often. Drawn every frame, 200 events a second kept a
 * browser core 90 % busy laying out the list 60 times a second; nobody reads faster. */
const FLUSH_MS = 250;

const KINDS = ['registration', 'update', 'deregistration', 'notification', 'property', 'command',
	'send', 'codec_error', 'codec_suspended', 'unmatched_answer', 'firmware', 'firmware_campaign', 'dropped'];

function values(list) {
	return (list || []).slice(0, 4).map((v) => `${v.path} = ${JSON.stringify(v.value)}`).join(', ') +
		((list || []).length > 4 ? ` … (${list.length})` : '');
}

/* One line saying what the event is. */
export function summary(type, d) {
	if (typeof d !== 'object' || d === null) return String(d);
	switch (type) {
	case 'registration':
		return `registered over ${d.transport || '?'} from ${d.peer_address || '?'}, lifetime ${d.lifetime} s, binding ${d.binding}, LwM2M ${d.lwm2m_version}`;
	case 'update':
		return `updated${d.lifetime ? `, lifetime ${d.lifetime} s` : ''}${d.peer_address ? ` from ${d.peer_address}` : ''}`;
	case 'deregistration':
		return `deregistered (${d.reason || '?'})`;
	case 'notification':
		return `${d.path} ${d.code || ''} #${d.seq ?? ''}: ${d.values ? values(d.values) : d.payload_base64 ? `raw ${d.payload_base64}` : ''}`;
	case 'property':
		return `${d.service_id}: ${Object.entries(d.properties || {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')}`;
	case 'command':
		return `${d.command_name} → ${d.status}${d.result && d.result.errcode !== undefined ? ` (errcode ${d.result.errcode})` : ''}`;
	case 'send':
		return `sent ${values(d.values)}`;
	case 'codec_error':
		return `${d.stage}: ${d.error}`;
	case 'codec_suspended':
		return `codec of ${d.product_id} suspended: ${d.reason}`;
	case 'firmware': // a campaign's target changed state (docs/firmware.md)
		return `firmware ${d.state}${d.reason ? ` (${d.reason})` : ''}${d.bytes ? `, ${d.bytes} bytes` : ''}${d.method ? ` by ${d.method}` : ''}`;
	case 'firmware_campaign': {
		const ended = ['succeeded', 'failed', 'skipped', 'cancelled'].reduce((n, k) => n + ((d.counts && d.counts[k]) || 0), 0);
		return `campaign ${d.name || d.campaign_id} ${d.status}${d.stop_reason ? ` (${d.stop_reason})` : ''}: ${ended} of ${d.targets} ended`;
	}
	case 'unmatched_answer':
		return `answer to mid ${d.mid} (errcode ${d.errcode}) matched no command`;
	default:
		return JSON.stringify(d);
	}
}

export function eventFeed({ title = 'Live events', showDevice = true, max = 200, headingLevel = 'h2' } = {}) {
	const list = h('ol', { class: 'feed' });
	const state = h('span', { class: 'stream-state', role: 'status' }, 'connecting…');
	const counter = h('span', { class: 'muted' });
	const pause = h('button', { type: 'button', class: 'small secondary', 'aria-pressed': 'false' }, 'Pause');
	const clear = h('button', { type: 'button', class: 'small secondary' }, 'Clear');
	const filter = h('select', { class: 'small', 'aria-label': `Show events of kind (${title})` },
		h('option', { value: '' }, 'all kinds'), KINDS.map((k) => h('option', { value: k }, k)));
	const el = h('section', { class: 'event-feed' },
		h('div', { class: 'section-head' }, h(headingLevel, {}, title), state),
		h('div', { class: 'toolbar' }, filter, pause, clear, counter),
		// A log whose additions are not read aloud: a busy fleet sends many a second.
		h('div', { role: 'log', 'aria-live': 'off', 'aria-label': title }, list));
	let paused = false;
	let total = 0;
	let queue = [];
	let flushTimer = 0;
	const empty = h('li', { class: 'empty' }, 'No events yet. They appear here as they happen.');
	list.append(empty);

	function item(ev) {
		const d = ev.data || {};
		const t = typeof d.time_ms === 'number' ? d.time_ms : ev.at;
		const dev = showDevice && d.device_id
			? h('a', { href: `#/devices/${encodeURIComponent(d.device_id)}`, class: 'mono' }, d.node_id || d.device_id)
			: null;
		const details = h('details', {},
			h('summary', {},
				h('time', { class: 'mono muted' }, fmtMs(t, true).slice(11)), ' ',
				h('span', { class: 'kind' }, ev.type), ' ', dev, dev ? ' ' : null,
				h('span', { class: 'sum' }, summary(ev.type, d))));
		// The whole JSON is drawn when first opened: drawing it for each of hundreds of
		// events a second, most never opened, kept a browser core busy.
		let drawn = false;
		details.addEventListener('toggle', () => {
			if (!details.open || drawn) return;
			drawn = true;
			details.append(jsonView(d, { label: `${ev.type} event` }));
		});
		return h('li', { class: `ev ev-${ev.type}`, 'data-kind': ev.type }, details);
	}

	function flush() {
		flushTimer = 0;
		counter.textContent = `${total.toLocaleString('en')} received`;
		if (paused || !queue.length) return;
		const batch = queue.length > max ? queue.slice(-max) : queue;
		queue = [];
		if (empty.isConnected) empty.remove();
		const f = filter.value;
		const frag = document.createDocumentFragment();
		for (let i = batch.length - 1; i >= 0; i--) {
			if (f && batch[i].type !== f) continue;
			frag.append(item(batch[i]));
		}
		list.prepend(frag);
		while (list.children.length > max) list.lastElementChild.remove();
	}

	pause.addEventListener('click', () => {
		paused = !paused;
		pause.textContent = paused ? 'Resume' : 'Pause';
		pause.setAttribute('aria-pressed', String(paused));
		if (!paused) flush();
	});
	clear.addEventListener('click', () => {
		queue = [];
		put(list, empty);
	});
	filter.addEventListener('change', () => {
		for (const li of list.querySelectorAll('li.ev')) li.hidden = !!filter.value && li.dataset.kind !== filter.value;
	});

	return {
		el,
		push(ev) {
			total += 1;
			queue.push({ ...ev, at: Date.now() });
			if (queue.length > 2 * max) queue = queue.slice(-max);
			// Paused, the counter still moves (a flush draws it and no events).
			if (!flushTimer) flushTimer = setTimeout(flush, FLUSH_MS);
		},
		/* The stream's state from api.events' onState. */
		state(s) {
			state.className = `stream-state s-${s.state}`;
			if (s.state === 'open') state.textContent = 'live';
			else if (s.state === 'connecting') state.textContent = 'connecting…';
			else if (s.state === 'retrying')
				state.textContent = `interrupted${s.error ? ` (${s.error.message})` : ''}; retrying in ${Math.round(s.retryMs / 1000)} s`;
			else state.textContent = s.error ? `stopped: ${s.error.toString()}` : 'stopped';
		},
	};
}
