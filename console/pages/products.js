/*
 * Products: the project's products, a page at a time; create one (its model and codec are
 * edited on its own page); delete one that has no devices.
 */
import * as api from '../api.js';
import { h, field, fmtTime } from '../dom.js';
import { pagedTable } from '../widgets/paged-table.js';
import { errorBox } from '../widgets/error-box.js';
import { outcome } from '../widgets/outcome.js';
import { confirmDialog } from '../widgets/confirm.js';

const PAGE = 20;

function createForm(onCreated) {
	const inputs = {
		product_id: h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', class: 'mono', pattern: '[A-Za-z0-9_-]{1,128}' }),
		name: h('input', { type: 'text', autocomplete: 'off', required: true }),
		device_type: h('input', { type: 'text', autocomplete: 'off' }),
		manufacturer_name: h('input', { type: 'text', autocomplete: 'off' }),
		data_format: h('select', {}, h('option', { value: 'binary' }, 'binary'), h('option', { value: 'json' }, 'json')),
		description: h('input', { type: 'text', autocomplete: 'off' }),
	};
	const errors = errorBox();
	const result = outcome();
	const submit = h('button', { type: 'submit' }, 'Create product');
	const form = h('form', { class: 'card', 'aria-labelledby': 'new-product-h', novalidate: true },
		h('h2', { id: 'new-product-h' }, 'New product'),
		h('div', { class: 'form-row' },
			field('Product ID', inputs.product_id, 'optional; A–Z a–z 0–9 _ -, generated when empty'),
			field('Name', inputs.name, 'required'),
			field('Device type', inputs.device_type),
			field('Manufacturer', inputs.manufacturer_name),
			field('Data format', inputs.data_format, 'binary payloads need a codec'),
			field('Description', inputs.description)),
		errors.el,
		h('div', { class: 'actions' }, submit),
		result.el);
	form.addEventListener('submit', async (e) => {
		e.preventDefault();
		errors.clear();
		for (const i of Object.values(inputs)) i.removeAttribute('aria-invalid');
		const body = { protocol_type: 'LwM2M' };
		for (const [k, i] of Object.entries(inputs)) if (i.value.trim() !== '') body[k] = i.value.trim();
		submit.disabled = true;
		const created = await result.run(() => api.products.create(body), {
			pending: 'Creating the product…',
			doneText: (p) => h('span', {}, 'Created ', h('a', { href: `#/products/${encodeURIComponent(p.product_id)}` }, p.product_id),
				'. Next: give it a model and a codec on its page.'),
			error: (err) => {
				// A 409 names the product ("product wm already exists"): its ID is taken.
				const input = inputs[err.field] || (err.status === 409 ? inputs.product_id : null);
				if (input) {
					input.setAttribute('aria-invalid', 'true');
					input.focus();
				}
				return null;
			},
		});
		submit.disabled = false;
		if (created) {
			for (const i of Object.values(inputs)) if (i.tagName === 'INPUT') i.value = '';
			onCreated(created);
		}
	});
	return form;
}

export default async function productsPage(root, ctx) {
	ctx.setTitle('Products');
	const deleted = outcome();
	let table;
	const remove = async (p) => {
		const ok = await confirmDialog({
			title: `Delete product ${p.product_id}?`,
			message: 'Its model and codec go with it. A product that still has devices cannot be deleted.',
			confirm: 'Delete product',
		});
		if (!ok) return;
		const r = await deleted.run(() => api.products.remove(p.product_id), {
			pending: `Deleting ${p.product_id}…`,
			doneText: () => `Deleted product ${p.product_id}.`,
		});
		if (r !== undefined) table.refresh();
	};
	table = pagedTable({
		caption: 'Products of the project, oldest first',
		pageSize: PAGE,
		key: (p) => p.product_id,
		empty: 'No products yet: create one below.',
		columns: [
			{ label: 'Product ID', cell: (p) => h('a', { href: `#/products/${encodeURIComponent(p.product_id)}`, class: 'mono' }, p.product_id) },
			{ label: 'Name', cell: (p) => p.name },
			{ label: 'Device type', cell: (p) => p.device_type || '—' },
			{ label: 'Manufacturer', cell: (p) => p.manufacturer_name || '—' },
			{ label: 'Format', cell: (p) => p.data_format },
			{ label: 'Devices', cls: 'num', cell: (p) => String(p.device_count) },
			{ label: 'Created', cell: (p) => fmtTime(p.create_time) },
			{
				label: 'Actions',
				cell: (p) => h('div', { class: 'actions' },
					h('a', { href: `#/devices?product_id=${encodeURIComponent(p.product_id)}` }, 'Devices'),
					h('a', { href: `#/products/${encodeURIComponent(p.product_id)}/codec` }, 'Codec'),
					h('button', { type: 'button', class: 'danger secondary small', 'aria-label': `Delete product ${p.product_id}`, onclick: () => remove(p) }, 'Delete')),
			},
		],
		load: async (offset, signal) => {
			const o = offset || 0;
			const res = await api.products.list({ limit: PAGE, offset: o }, signal);
			const count = res.page && res.page.count;
			return { rows: res.products, count, next: o + res.products.length < count ? o + PAGE : null };
		},
	});
	const refresh = h('button', { type: 'button', class: 'secondary' }, 'Refresh');
	refresh.addEventListener('click', () => table.refresh());
	root.append(
		h('div', { class: 'page-head' }, h('h1', {}, 'Products'), refresh),
		h('p', { class: 'muted' }, 'A product is a kind of device: its model (services, properties, commands), its codec and its resource mappings.'),
		h('section', { class: 'card', 'aria-label': 'Product list' }, table.el, deleted.el),
		createForm((p) => {
			table.refresh();
			return p;
		})
	);
	ctx.signal.addEventListener('abort', () => table.stop());
	table.reload();
}
