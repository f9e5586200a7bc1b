/*
 * secret: a device secret the API shows once (on create and resetSecret), with a copy
 * button and a warning that it will not be shown again.
 */
import { h, copyText } from '../dom.js';

export function secretOnce({ deviceId, secret, warnings = [], onDismiss }) {
	const input = h('input', { type: 'text', readonly: true, value: secret, class: 'mono secret-value', 'aria-label': `Secret of ${deviceId}` });
	const copied = h('span', { class: 'muted', role: 'status' });
	const copy = h('button', { type: 'button' }, 'Copy secret');
	copy.addEventListener('click', async () => {
		try {
			copied.textContent = (await copyText(secret, input)) ? 'Copied.' : 'Select the text and copy it.';
		} catch (e) {
			copied.textContent = `Could not copy (${e.message}); select the text and copy it.`;
		}
	});
	const hide = h('button', { type: 'button', class: 'secondary' }, 'I have saved it');
	const el = h(
		'section',
		{ class: 'secret-once', 'aria-label': 'Device secret' },
		h('h3', {}, `Secret of ${deviceId}`),
		h('p', {}, 'Shown only now: the API never shows it again. It is the DTLS PSK key (hex) of the device.'),
		h('div', { class: 'row' }, input, copy, hide),
		copied,
		warnings.length ? h('ul', { class: 'warnings' }, warnings.map((w) => h('li', {}, w))) : null
	);
	hide.addEventListener('click', () => {
		el.remove();
		if (onDismiss) onDismiss();
	});
	return el;
}
