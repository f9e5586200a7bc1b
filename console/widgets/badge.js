/*
 * badge: a device's, a command's or a firmware campaign's status as a word in a coloured
 * pill (the word is what counts, the colour only helps).
 */
import { h } from '../dom.js';

const KNOWN = new Set([
	'online', 'offline', 'inactive', 'asleep', 'pending', 'sent', 'delivered', 'successful',
	'failed', 'timeout', 'expired', 'active', 'suspended', 'open', 'closed', 'half_open',
	// firmware: campaign statuses and target states (docs/firmware.md)
	'running', 'paused', 'stopped', 'cancelled', 'finished', 'waiting', 'starting',
	'downloading', 'downloaded', 'updating', 'succeeded', 'skipped',
]);

export function badge(status, extra) {
	const word = String(status || 'unknown');
	const key = word.toLowerCase().replace(/[^a-z_]/g, '');
	return h('span', { class: `badge badge-${KNOWN.has(key) ? key : 'other'}` }, word, extra ? ` · ${extra}` : null);
}

/* A device's status, with "asleep" beside ONLINE for a queue-mode device that sleeps. */
export function deviceBadge(dev) {
	if (!dev) return badge('unknown');
	const asleep = dev.status === 'ONLINE' && (dev.asleep === true || (dev.lwm2m && dev.lwm2m.asleep === true));
	const el = badge(dev.status);
	return asleep ? h('span', { class: 'badges' }, el, ' ', badge('asleep')) : el;
}
