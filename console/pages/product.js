/*
 * Product: one product — its details, and two views: the model (services, properties,
 * commands, resource mappings; product-model.js) at #/products/{id}, and the codec with
 * its test panel (product-codec.js) at #/products/{id}/codec.
 */
import * as api from '../api.js';
import { h, put, field, fmtTime } from '../dom.js';
import { errorBox } from '../widgets/error-box.js';
import { outcome } from '../widgets/outcome.js';
import { confirmDialog } from '../widgets/confirm.js';
import { modelEditor } from './product-model.js';
import { codecEditor } from './product-codec.js';

const READ_FORMATS = ['text', 'opaque', 'cbor', 'senml-json', 'senml-cbor', 'tlv', 'json'];

function detailsForm(p, onSaved) {
	const inputs = {
		name: h('input', { type: 'text', value: p.name, required: true, autocomplete: 'off' }),
		device_type: h('input', { type: 'text', value: p.device_type || '', autocomplete: 'off' }),
		manufacturer_name: h('input', { type: 'text', value: p.manufacturer_name || '', autocomplete: 'off' }),
		data_format: h('select', {}, ['binary', 'json'].map((f) => h('option', { value: f, selected: p.data_format === f }, f))),
		read_format: h('select', {}, h('option', { value: '' }, '(none: the device picks)'),
			READ_FORMATS.map((f) => h('option', { value: f, selected: p.read_format === f }, f))),
		description: h('input', { type: 'text', value: p.description || '', autocomplete: 'off' }),
	};
	const result = outcome();
	const submit = h('button', { type: 'submit' }, 'Save details');
	const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'details-h' },
		h('h2', { id: 'details-h' }, 'Details'),
		h('dl', { class: 'props' }, h('dt', {}, 'Product ID'), h('dd', { class: 'mono' }, p.product_id),
			h('dt', {}, 'Protocol'), h('dd', {}, p.protocol_type), h('dt', {}, 'Created'), h('dd', {}, fmtTime(p.create_time))),
		h('div', { class: 'form-row' },
			field('Name', inputs.name),
			field('Device type', inputs.device_type),
			field('Manufacturer', inputs.manufacturer_name),
			field('Data format', inputs.data_format),
			field('Read format', inputs.read_format, 'the Accept of reads of its devices'),
			field('Description', inputs.description)),
		h('div', { class: 'actions' }, submit),
		result.el);
	form.addEventListener('submit', async (e) => {
		e.preventDefault();
		for (const i of Object.values(inputs)) i.removeAttribute('aria-invalid');
		const body = {};
		for (const [k, i] of Object.entries(inputs)) body[k] = i.value;
		// read_format is the only one that can be taken back to null.
		body.read_format = inputs.read_format.value || null;
		submit.disabled = true;
		const r = await result.run(() => api.products.update(p.product_id, body), {
			pending: 'Saving…',
			doneText: () => 'Saved.',
			error: (err) => {
				const input = inputs[err.field];
				if (input) {
					input.setAttribute('aria-invalid', 'true');
					input.focus();
				}
				return null;
			},
		});
		submit.disabled = false;
		if (r) onSaved(r);
	});
	return form;
}

export default async function productPage(root, ctx) {
	const id = ctx.params.productId;
	const tab = ctx.params.tab === 'codec' ? 'codec' : 'model';
	ctx.setTitle(`Product ${id}`);
	const title = h('h1', {}, `Product ${id}`);
	const errors = errorBox();
	const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
	const deleted = outcome();
	const del = h('button', { type: 'button', class: 'danger secondary' }, 'Delete product');
	const base = `#/products/${encodeURIComponent(id)}`;
	root.append(
		h('p', { class: 'crumbs' }, h('a', { href: '#/products' }, 'Products'), ' / ', h('span', { class: 'mono' }, id)),
		h('div', { class: 'page-head' }, title,
			h('a', { href: `#/devices?product_id=${encodeURIComponent(id)}` }, 'Its devices'), del),
		deleted.el,
		h('nav', { class: 'tabs', 'aria-label': 'Product views' },
			h('a', { href: base, 'aria-current': tab === 'model' ? 'page' : undefined }, 'Model'),
			h('a', { href: `${base}/codec`, 'aria-current': tab === 'codec' ? 'page' : undefined }, 'Codec')),
		errors.el,
		body);

	let product;
	try {
		product = await api.products.get(id, ctx.signal);
	} catch (err) {
		if (err.aborted) return;
		put(body);
		errors.show(err, 'Could not load the product');
		return;
	}
	title.textContent = `Product ${product.name}`;
	ctx.setTitle(`${product.name} (product)`);

	del.addEventListener('click', async () => {
		const ok = await confirmDialog({ title: `Delete product ${id}?`, message: 'Its model and codec go with it. A product that still has devices cannot be deleted.', confirm: 'Delete product' });
		if (!ok) return;
		const r = await deleted.run(() => api.products.remove(id), { pending: 'Deleting…', doneText: () => 'Deleted.' });
		if (r !== undefined) location.hash = '#/products';
	});

	if (tab === 'model') {
		const editor = modelEditor(product, { onSaved: (p) => { product = p; } });
		put(body, detailsForm(product, (p) => {
			product = p;
			title.textContent = `Product ${p.name}`;
		}), editor.el);
	} else {
		put(body, codecEditor(product, ctx.signal));
	}
}
