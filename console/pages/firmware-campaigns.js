/*
 * firmware-campaigns: the Firmware page's campaigns (docs/firmware.md "Campaigns") — the
 * list with each one's status and progress, and the form that creates one: a package, its
 * targets (a product's devices, optionally only those at some versions, or a pasted list
 * of device ids), delivery, pacing, retries and the failure threshold. Settings left
 * empty are not sent: the daemon's defaults (shown as placeholders) apply.
 */
import * as api from '../api.js';
import { h, put, uid, fmtTime } from '../dom.js';
import { errorBox } from '../widgets/error-box.js';
import { outcome } from '../widgets/outcome.js';
import { badge } from '../widgets/badge.js';
import { formErrors, fieldName } from '../widgets/form-errors.js';
import { campaignProgress, num, packageLabel } from './firmware-common.js';
import { productOptions } from './firmware-packages.js';

const MAX_DEVICE_IDS = 10000; // docs/firmware.md: an explicit list holds at most this many
const MAX_FROM_VERSIONS = 16; // fw_campaign.h FW_CAMPAIGN_MAX_FROM_VERSIONS

/* The numeric settings: [name, label, default (docs/firmware.md), hint]. */
const SETTINGS = [
	['max_concurrent', 'Max concurrent', 100, 'devices updating at once (1–100 000)'],
	['rate_per_minute', 'Rate per minute', 600, 'devices started per minute at most (1–1 000 000)'],
	['retries', 'Retries', 2, 'of a transient failure'],
	['retry_backoff_s', 'Retry backoff (s)', 60, 'before the first retry; doubling'],
	['failure_threshold_percent', 'Failure threshold (%)', 20, 'stop when failed / ended passes this'],
	['failure_min_devices', 'Failure min devices', 10, 'ended targets before the threshold applies'],
	['download_timeout_s', 'Download timeout (s)', 3600, 'per device'],
	['update_timeout_s', 'Update timeout (s)', 600, 'per device'],
];

export const campaignHref = (id) => `#/firmware/campaigns/${encodeURIComponent(id)}`;

/* A number when the text is one, else the text as typed, for the API to name. */
function numberOrText(raw) {
	return /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
}

function createForm(onCreated) {
	const fe = formErrors();
	const name = h('input', { type: 'text', autocomplete: 'off', placeholder: 'meters to 1.2.0' });
	const pkg = h('select', { required: true }, h('option', { value: '' }, 'no packages yet'));
	const byProduct = h('input', { type: 'radio', name: uid('targets'), id: uid('t'), value: 'product', checked: true });
	const byList = h('input', { type: 'radio', name: byProduct.name, id: uid('t'), value: 'list' });
	const product = h('select', {});
	const fromVersions = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', class: 'mono', placeholder: '1.0.0, 1.1.0' });
	const deviceIds = h('textarea', { rows: 5, spellcheck: 'false', class: 'mono', placeholder: 'meter_861234567890123\nmeter_861234567890124' });
	const delivery = h('select', {}, ['auto', 'pull', 'push'].map((d) => h('option', { value: d }, d)));
	const numbers = SETTINGS.map(([key, label, def, hint]) => ({
		key, label, hint,
		input: h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off', placeholder: String(def) }),
	}));
	const productPart = h('div', { class: 'form-row wide' },
		fe.field('targets.product_id', 'Target product', product, 'every device of the product when the campaign is created'),
		fe.field('targets.from_versions', 'From versions', fromVersions, `optional, comma-separated (at most ${MAX_FROM_VERSIONS}): only devices whose /3/0/3 is one of these; the others are skipped`));
	const listPart = h('div', { hidden: true },
		fe.field('targets.device_ids', 'Device IDs', deviceIds, `one per line, at most ${MAX_DEVICE_IDS.toLocaleString('en')}`));
	const result = outcome();
	const submit = h('button', { type: 'submit' }, 'Create campaign');
	const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'fw-new-campaign-h' },
		h('h2', { id: 'fw-new-campaign-h' }, 'New campaign'),
		h('div', { class: 'form-row wide' },
			fe.field('name', 'Campaign name', name, 'optional'),
			fe.field('package_id', 'Package', pkg, 'the firmware to install')),
		h('fieldset', {}, h('legend', {}, 'Targets'),
			h('div', { class: 'row' },
				h('div', { class: 'check' }, byProduct, h('label', { for: byProduct.id }, 'Devices of a product')),
				h('div', { class: 'check' }, byList, h('label', { for: byList.id }, 'Listed devices'))),
			productPart, listPart),
		h('fieldset', {}, h('legend', {}, 'Delivery, pacing and failures'),
			h('p', { class: 'note' }, 'Empty fields take the defaults shown.'),
			h('div', { class: 'form-row' },
				fe.field('delivery', 'Delivery', delivery, 'auto: pull when the device can, else push'),
				numbers.map((n) => fe.field(n.key, n.label, n.input, n.hint)))),
		h('div', { class: 'actions' }, submit),
		result.el);

	const showTargets = () => {
		productPart.hidden = !byProduct.checked;
		listPart.hidden = byProduct.checked;
	};
	byProduct.addEventListener('change', showTargets);
	byList.addEventListener('change', showTargets);

	function body() {
		const b = { package_id: pkg.value, delivery: delivery.value };
		if (name.value.trim()) b.name = name.value.trim();
		if (byProduct.checked) {
			b.targets = { product_id: product.value };
			const versions = fromVersions.value.split(',').map((v) => v.trim()).filter((v) => v !== '');
			if (versions.length) b.targets.from_versions = versions;
		} else {
			b.targets = { device_ids: deviceIds.value.split('\n').map((v) => v.trim()).filter((v) => v !== '') };
		}
		for (const n of numbers) {
			const raw = n.input.value.trim();
			if (raw !== '') b[n.key] = numberOrText(raw);
		}
		return b;
	}

	/* The field an error is about: the one its message names, else by its first word
	 * ("package … not found", "product …", "device …"), else the targets shown. */
	function errorField(err) {
		const f = fieldName(err);
		if (fe.has(f)) return f;
		const first = /^[a-z_]+/i.exec(err.message || '');
		const word = first ? first[0].toLowerCase() : '';
		if (word === 'package' || word === 'package_id') return 'package_id';
		if (word === 'product' || word === 'product_id') return byProduct.checked ? 'targets.product_id' : null;
		if (word === 'device' || word === 'device_id' || word === 'device_ids') return byList.checked ? 'targets.device_ids' : null;
		if (f === 'targets' || word === 'targets') return byProduct.checked ? 'targets.product_id' : 'targets.device_ids';
		return null;
	}

	form.addEventListener('submit', async (e) => {
		e.preventDefault();
		fe.clear();
		const b = body();
		if (!b.package_id) return void fe.show('package_id', 'choose a package (upload one first)');
		if (b.targets.product_id === '') return void fe.show('targets.product_id', 'choose the product whose devices to update');
		if (b.targets.device_ids && !b.targets.device_ids.length) return void fe.show('targets.device_ids', 'paste the device ids, one per line');
		if (b.targets.device_ids && b.targets.device_ids.length > MAX_DEVICE_IDS)
			return void fe.show('targets.device_ids', `${b.targets.device_ids.length} device ids: at most ${MAX_DEVICE_IDS} in one campaign`);
		submit.disabled = true;
		const c = await result.run(() => api.campaigns.create(b), {
			pending: 'Creating the campaign…',
			doneText: (x) => h('span', {}, 'Created campaign ', h('a', { href: campaignHref(x.campaign_id) }, x.name || x.campaign_id),
				` over ${num(x.targets)} device${x.targets === 1 ? '' : 's'}.`),
			error: (err) => {
				const f = errorField(err);
				if (f) fe.show(f, err.message);
				return null;
			},
		});
		submit.disabled = false;
		if (!c) return;
		name.value = '';
		deviceIds.value = '';
		onCreated(c);
	});

	return {
		el: form,
		packages(list) {
			const was = pkg.value;
			put(pkg, list.length ? h('option', { value: '' }, 'choose a package') : h('option', { value: '' }, 'no packages yet'),
				list.map((p) => h('option', { value: p.package_id }, `${packageLabel(p)}${p.description ? ` — ${p.description}` : ''}`)));
			if (list.some((p) => p.package_id === was)) pkg.value = was;
		},
		products: (list) => productOptions(product, list, 'choose a product'),
	};
}

/* The campaigns section: list and create form. */
export function campaignsSection({ signal }) {
	const errors = errorBox();
	const tbody = h('tbody');
	const count = h('span', { class: 'muted', role: 'status' });
	const refresh = h('button', { type: 'button', class: 'secondary small' }, 'Refresh');
	const cols = ['Campaign', 'Package', 'Status', 'Progress', 'Targets', 'Created'];
	const table = h('table', { class: 'stack' },
		h('caption', {}, 'Firmware campaigns of the project'),
		h('thead', {}, h('tr', {}, cols.map((t) => h('th', { scope: 'col', class: t === 'Targets' ? 'num' : undefined }, t)))),
		tbody);
	let packages = new Map(); // package_id → package, to name each campaign's
	let last = [];
	let ctrl = null;

	function row(c) {
		const p = packages.get(c.package_id);
		const cells = [
			['Campaign', h('a', { href: campaignHref(c.campaign_id) }, c.name || c.campaign_id)],
			['Package', p ? packageLabel(p) : h('span', { class: 'mono' }, c.package_id)],
			['Status', h('span', {}, badge(c.status), c.stop_reason ? h('small', { class: 'muted' }, ` ${c.stop_reason}`) : null)],
			['Progress', campaignProgress(c)],
			['Targets', num(c.targets)],
			['Created', fmtTime(c.create_time)],
		];
		return h('tr', {}, cells.map(([label, x]) => h('td', { 'data-label': label, class: label === 'Targets' ? 'num' : undefined }, x)));
	}

	function render() {
		put(tbody, last.map(row));
		if (!last.length) tbody.append(h('tr', {}, h('td', { colspan: cols.length, class: 'empty' }, 'No campaigns yet: create one below.')));
		count.textContent = `${last.length} campaign${last.length === 1 ? '' : 's'}`;
	}

	async function load() {
		if (ctrl) ctrl.abort();
		ctrl = new AbortController();
		const mine = ctrl;
		refresh.disabled = true;
		try {
			const res = await api.campaigns.list(mine.signal);
			if (mine !== ctrl) return;
			errors.clear();
			last = res.campaigns || [];
			render();
		} catch (err) {
			if (!err.aborted) errors.show(err, 'Could not load the campaigns');
		} finally {
			if (mine === ctrl) refresh.disabled = false;
		}
	}
	signal.addEventListener('abort', () => ctrl && ctrl.abort(), { once: true });
	refresh.addEventListener('click', load);

	const form = createForm(() => load());
	const el = h('div', {},
		h('section', { class: 'card', 'aria-labelledby': 'fw-campaigns-h' },
			h('div', { class: 'section-head' }, h('h2', { id: 'fw-campaigns-h' }, 'Campaigns'), count, refresh),
			errors.el, h('div', { class: 'table-scroll' }, table)),
		form.el);
	return {
		el,
		load,
		packages(list) {
			packages = new Map(list.map((p) => [p.package_id, p]));
			form.packages(list);
			if (last.length) render();
		},
		products: form.products,
	};
}
