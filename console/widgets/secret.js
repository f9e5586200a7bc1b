/*
 * secret: a secret the API shows once — a device secret (on create and resetSecret), an
 * API token (on create) — with a copy button and a warning that it will not be shown
 * again. deviceId names a device's; title, label and note name anything else's.
 */
import { h, copyText } from '../dom.js';

export function secretOnce({ deviceId, secret, warnings = [], onDismiss,
	title = `Secret of ${deviceId}`, label = 'Device secret', copyLabel = 'Copy secret',
	note = 'It is the DTLS PSK key (hex) of the device.' }) {
	const input = h('input', { type: 'text', readonly: true, value: secret, class: 'mono secret-value', 'aria-label': title });
	const copied = h('span', { class: 'muted', role: 'status' });
	const copy = h('button', { type: 'button' }, copyLabel);
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
		{ class: 'secret-once', 'aria-label': label },
		h('h3', {}, title),
		h('p', {}, `Shown only now: the API never shows it again. ${note}`),
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
