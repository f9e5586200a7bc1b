/*
 * paged-table: a table of items loaded a page at a time. load(cursor, signal) fetches a
 * page and resolves to {rows, count, countCapped, next}: next is the cursor of the page
 * after (a marker from the API, or an offset), null on the last page. The widget keeps
 * the cursors it came through for "Previous page", so it never needs an offset into a
 * million devices. A page may hold fewer rows than asked for (even none) and still have a
 * next one (the device list's prefix searches examine a bounded number of devices per
 * page): rows are numbered by what the pages before it held, and an empty page with a
 * next says that more may follow. countCapped: count is a lower bound ("at least").
 *
 * Rows are kept by key, so a page can change one live (update) without reloading. On a
 * narrow screen each row becomes a card whose cells are labelled by their column
 * (data-label, shown by CSS).
 */
import { h, put } from '../dom.js';
import { errorBox } from './error-box.js';

export function pagedTable({ caption, columns, load, key, empty = 'Nothing here yet.', emptyMore = 'None on this page; more may follow: Next page looks further.' }) {
	const tbody = h('tbody');
	const table = h(
		'table',
		{ class: 'paged' },
		h('caption', {}, caption),
		h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.cls }, c.label))))
	);
	table.append(tbody);
	const status = h('span', { class: 'page-status', role: 'status' });
	const prev = h('button', { type: 'button', class: 'secondary' }, 'Previous page');
	const next = h('button', { type: 'button', class: 'secondary' }, 'Next page');
	const errors = errorBox();
	const el = h('div', { class: 'paged-table' }, errors.el, h('div', { class: 'table-scroll' }, table), h('div', { class: 'pager' }, prev, status, next));

	let cursors = [null]; // cursors[i] loads page i
	let starts = [0]; // starts[i]: the rows the pages before page i held
	let page = 0;
	let nextCursor = null;
	let ctrl = null;
	const rows = new Map(); // key → {row, tr}

	function renderRow(row) {
		return h('tr', {}, columns.map((c) => h('td', { 'data-label': c.label, class: c.cls }, c.cell(row))));
	}

	async function show(i) {
		if (ctrl) ctrl.abort();
		ctrl = new AbortController();
		const mine = ctrl;
		table.setAttribute('aria-busy', 'true');
		prev.disabled = true;
		next.disabled = true;
		status.textContent = 'Loading…';
		try {
			const t0 = performance.now();
			const res = await load(cursors[i], mine.signal);
			if (mine !== ctrl) return;
			errors.clear();
			page = i;
			nextCursor = res.next === undefined ? null : res.next;
			cursors = cursors.slice(0, i + 1);
			if (nextCursor !== null) cursors.push(nextCursor);
			starts = starts.slice(0, i + 1);
			starts.push(starts[i] + res.rows.length);
			rows.clear();
			put(tbody);
			for (const row of res.rows) {
				const tr = renderRow(row);
				rows.set(key(row), { row, tr });
				tbody.append(tr);
			}
			if (!res.rows.length) tbody.append(h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, nextCursor !== null ? emptyMore : empty)));
			const first = starts[i] + 1;
			const last = starts[i] + res.rows.length;
			let total = '';
			if (typeof res.count === 'number')
				total = res.countCapped ? ` of at least ${Math.max(res.count, last).toLocaleString('en')}` : ` of ${res.count.toLocaleString('en')}`;
			const took = ` · ${Math.round(performance.now() - t0)} ms`;
			if (res.rows.length)
				status.textContent = `Page ${i + 1} · ${first.toLocaleString('en')}–${last.toLocaleString('en')}${total}${took}`;
			else
				status.textContent = nextCursor !== null ? `Page ${i + 1} · none on this page; more may follow${took}` : 'No items';
		} catch (err) {
			if (err.aborted || mine !== ctrl) return;
			errors.show(err, 'Could not load');
			status.textContent = '';
		} finally {
			if (mine === ctrl) {
				table.removeAttribute('aria-busy');
				prev.disabled = page === 0;
				next.disabled = nextCursor === null;
			}
		}
	}

	prev.addEventListener('click', () => show(Math.max(0, page - 1)));
	next.addEventListener('click', () => show(page + 1));

	return {
		el,
		/* From the first page (filters changed). */
		reload() {
			cursors = [null];
			starts = [0];
			return show(0);
		},
		/* The page shown, again. */
		refresh() {
			return show(page);
		},
		/* Re-renders the row of this key with patch merged in; false when not shown. */
		update(k, patch) {
			const r = rows.get(k);
			if (!r) return false;
			r.row = { ...r.row, ...patch };
			const tr = renderRow(r.row);
			r.tr.replaceWith(tr);
			r.tr = tr;
			return true;
		},
		has: (k) => rows.has(k),
		stop() {
			if (ctrl) ctrl.abort();
		},
	};
}
