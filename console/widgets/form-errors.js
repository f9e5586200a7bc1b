/*
 * form-errors: the API's error put beside the field it is about. A form registers each
 * control under the name the API's messages start with ("version …", "targets.device_ids[3]
 * …", "max_concurrent must …"); show() marks the one named — aria-invalid, the message in
 * a line under it that the control is described by — and focuses it.
 */
import { h, field as plainField, uid } from '../dom.js';

export function formErrors() {
	const fields = new Map(); // name → {control, msg}

	return {
		/* A labelled control (dom.js field()) with a place for its error, registered as name. */
		field(name, label, control, hint) {
			const wrap = plainField(label, control, hint);
			const msg = h('small', { id: uid('err'), class: 'field-error', hidden: true });
			wrap.append(msg);
			const described = control.getAttribute('aria-describedby');
			control.setAttribute('aria-describedby', described ? `${described} ${msg.id}` : msg.id);
			fields.set(name, { control, msg });
			return wrap;
		},
		/* Registers a control built elsewhere, with its own message element. */
		add(name, control, msg) {
			fields.set(name, { control, msg });
		},
		has: (name) => fields.has(name),
		/* Marks name's control with text; false when no control has that name. */
		show(name, text) {
			const f = fields.get(name);
			if (!f) return false;
			f.control.setAttribute('aria-invalid', 'true');
			if (f.msg) {
				f.msg.textContent = text;
				f.msg.hidden = false;
			}
			f.control.focus();
			return true;
		},
		clear() {
			for (const f of fields.values()) {
				f.control.removeAttribute('aria-invalid');
				if (f.msg) {
					f.msg.textContent = '';
					f.msg.hidden = true;
				}
			}
		},
	};
}

/* The field an ApiError names, with its indices dropped: "targets.device_ids[3]" →
 * "targets.device_ids". */
export function fieldName(err) {
	return (err && err.field ? err.field : '').replace(/\[\d+\]/g, '');
}
