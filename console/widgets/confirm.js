/*
 * confirm: asks before something that cannot be undone, in a modal <dialog> (focus stays
 * inside, Escape cancels), the safe choice focused first.
 */
import { h, uid } from '../dom.js';

export function confirmDialog({ title, message, confirm = 'Delete' }) {
	return new Promise((resolve) => {
		const no = h('button', { type: 'button' }, 'Cancel');
		const yes = h('button', { type: 'button', class: 'danger' }, confirm);
		const headingId = uid('dlg');
		const dlg = h(
			'dialog',
			{ class: 'confirm', 'aria-labelledby': headingId },
			h('h2', { id: headingId }, title),
			h('p', {}, message),
			h('div', { class: 'actions' }, no, yes)
		);
		const finish = (v) => {
			dlg.close();
			dlg.remove();
			resolve(v);
		};
		no.addEventListener('click', () => finish(false));
		yes.addEventListener('click', () => finish(true));
		dlg.addEventListener('cancel', (e) => {
			e.preventDefault();
			finish(false);
		});
		document.body.append(dlg);
		dlg.showModal();
		no.focus();
	});
}
