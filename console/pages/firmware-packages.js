/*
 * firmware-packages: the Firmware page's packages (docs/firmware.md "Packages") — the
 * list (product, version, size, SHA-256, created), an upload, a delete.
 *
 * The upload POSTs the file's bytes as the request body with fetch: the browser streams
 * the File from disk, nothing is read into the page. fetch cannot report an upload's
 * progress over HTTP/1.1 (a streamed request body needs HTTP/2), so the form shows a busy
 * state with the time elapsed and a Cancel button instead.
 */
import * as api from '../api.js';
import { h, put, fmtTime } from '../dom.js';
import { errorBox } from '../widgets/error-box.js';
import { outcome } from '../widgets/outcome.js';
import { confirmDialog } from '../widgets/confirm.js';
import { formErrors, fieldName } from '../widgets/form-errors.js';
import { fmtBytes, packageLabel } from './firmware-common.js';

const VERSION_MAX = 64; // docs/firmware.md: 1–64 printable characters
const SHA_SHOWN = 12; // hex digits of the SHA-256 in the list; all of it in the title

/* The product options of a select: first an empty choice (blank), then every product. */
export function productOptions(select, products, blank) {
	const was = select.value;
	put(select, blank === null ? null : h('option', { value: '' }, blank),
		products.map((p) => h('option', { value: p.product_id }, p.name && p.name !== p.product_id ? `${p.product_id} — ${p.name}` : p.product_id)));
	if (products.some((p) => p.product_id === was)) select.value = was;
}

function uploadForm(onUploaded) {
	const fe = formErrors();
	const product = h('select', { required: true });
	const version = h('input', { type: 'text', required: true, maxlength: VERSION_MAX, autocomplete: 'off', spellcheck: 'false', class: 'mono', placeholder: '1.2.0' });
	const description = h('input', { type: 'text', autocomplete: 'off' });
	const file = h('input', { type: 'file', required: true });
	const result = outcome();
	const submit = h('button', { type: 'submit' }, 'Upload package');
	const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'fw-upload-h' },
		h('h2', { id: 'fw-upload-h' }, 'Upload a package'),
		h('div', { class: 'form-row wide' },
			fe.field('product_id', 'Product', product, 'the devices it is for'),
			fe.field('version', 'Version', version, `1–${VERSION_MAX} characters; what the device reports in /3/0/3 once updated`),
			fe.field('description', 'Description', description, 'optional'),
			fe.field('file', 'Package file', file, 'sent as it is; at most the daemon\'s --firmware-max-bytes (64 MiB by default)')),
		h('div', { class: 'actions' }, submit),
		result.el);

	form.addEventListener('submit', async (e) => {
		e.preventDefault();
		fe.clear();
		const meta = { product_id: product.value, version: version.value.trim() };
		if (description.value.trim()) meta.description = description.value.trim();
		const f = file.files && file.files[0];
		if (!meta.product_id) return void fe.show('product_id', 'choose the product the package is for');
		if (!meta.version) return void fe.show('version', 'give the package\'s version');
		if (!f) return void fe.show('file', 'choose the package\'s file');
		submit.disabled = true;
		const pkg = await result.run((signal) => api.firmware.upload(meta, f, signal), {
			pending: `Uploading ${f.name} (${fmtBytes(f.size)})…`,
			cancellable: true,
			doneText: (p) => `Uploaded ${packageLabel(p)}: ${fmtBytes(p.size)}, SHA-256 ${p.sha256.slice(0, SHA_SHOWN)}…`,
			error: (err) => {
				// The status says which field first: a message may start with another word.
				const byStatus = { 404: 'product_id', 409: 'version', 413: 'file', 507: 'file' }[err.status];
				let name = byStatus || fieldName(err);
				// "the package is empty", "… could not be stored on disk": about the file.
				if (!fe.has(name) && /\b(empty|file|disk|bytes)\b/.test(err.message)) name = 'file';
				fe.show(name, err.message); // no field named: the outcome alone says it
				return null;
			},
		});
		submit.disabled = false;
		if (!pkg) return;
		version.value = '';
		description.value = '';
		file.value = '';
		onUploaded(pkg);
	});
	return { el: form, products: (list) => productOptions(product, list, 'choose a product') };
}

/* The packages section. onPackages(list) after each load, for the campaign form. */
export function packagesSection({ signal, onPackages }) {
	const errors = errorBox();
	const deleted = outcome();
	const tbody = h('tbody');
	const count = h('span', { class: 'muted', role: 'status' });
	const filter = h('select', { class: 'small', 'aria-label': 'Show the packages of product' });
	const refresh = h('button', { type: 'button', class: 'secondary small' }, 'Refresh');
	const cols = ['Product', 'Version', 'Size', 'SHA-256', 'Description', 'Created', 'Actions'];
	const table = h('table', { class: 'stack' },
		h('caption', {}, 'Firmware packages of the project'),
		h('thead', {}, h('tr', {}, cols.map((t) => h('th', { scope: 'col', class: t === 'Size' ? 'num' : undefined }, t)))),
		tbody);
	let ctrl = null;

	async function load() {
		if (ctrl) ctrl.abort();
		ctrl = new AbortController();
		const mine = ctrl;
		refresh.disabled = true;
		try {
			const res = await api.firmware.list(filter.value || undefined, mine.signal);
			if (mine !== ctrl) return;
			errors.clear();
			const list = res.packages || [];
			put(tbody, list.map(row));
			if (!list.length) tbody.append(h('tr', {}, h('td', { colspan: cols.length, class: 'empty' }, 'No packages yet: upload one below.')));
			count.textContent = `${list.length} package${list.length === 1 ? '' : 's'}`;
			if (!filter.value) onPackages(list);
		} catch (err) {
			if (!err.aborted) errors.show(err, 'Could not load the packages');
		} finally {
			if (mine === ctrl) refresh.disabled = false;
		}
	}

	function row(p) {
		const cells = [
			['Product', h('a', { href: `#/products/${encodeURIComponent(p.product_id)}`, class: 'mono' }, p.product_id)],
			['Version', h('strong', { class: 'mono' }, p.version)],
			['Size', fmtBytes(p.size)],
			['SHA-256', h('code', { title: p.sha256 }, `${String(p.sha256).slice(0, SHA_SHOWN)}…`)],
			['Description', p.description || '—'],
			['Created', fmtTime(p.create_time)],
			['Actions', h('button', { type: 'button', class: 'danger secondary small', 'aria-label': `Delete package ${packageLabel(p)}`, onclick: () => remove(p) }, 'Delete')],
		];
		return h('tr', {}, cells.map(([label, c]) => h('td', { 'data-label': label, class: label === 'Size' ? 'num' : undefined }, c)));
	}

	async function remove(p) {
		const ok = await confirmDialog({
			title: `Delete package ${packageLabel(p)}?`,
			message: 'Its file is removed from the firmware directory. A package that a running or paused campaign uses cannot be deleted.',
			confirm: 'Delete package',
		});
		if (!ok) return;
		const r = await deleted.run(() => api.firmware.remove(p.package_id), {
			pending: `Deleting ${packageLabel(p)}…`,
			doneText: () => `Deleted package ${packageLabel(p)}.`,
		});
		if (r !== undefined) load();
	}

	signal.addEventListener('abort', () => ctrl && ctrl.abort(), { once: true });
	const upload = uploadForm(() => load());
	filter.addEventListener('change', load);
	refresh.addEventListener('click', load);
	const el = h('div', {},
		h('section', { class: 'card', 'aria-labelledby': 'fw-packages-h' },
			h('div', { class: 'section-head' }, h('h2', { id: 'fw-packages-h' }, 'Packages'), count, filter, refresh),
			errors.el, h('div', { class: 'table-scroll' }, table), deleted.el),
		upload.el);
	return {
		el,
		load,
		products(list) {
			upload.products(list);
			productOptions(filter, list, 'all products');
		},
	};
}
