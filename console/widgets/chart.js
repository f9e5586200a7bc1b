/*
 * chart: a small line chart of a numeric value over time, drawn as SVG by hand (no chart
 * library). It keeps the last `max` points; the y axis spans their range; a summary line
 * says the same in words for a screen reader.
 */
import { h, s, put, fmtMs } from '../dom.js';

const W = 600;
const H = 180;
const PAD = { l: 56, r: 12, t: 12, b: 26 };

function label(v) {
	if (!Number.isFinite(v)) return '';
	return Math.abs(v) >= 1e6 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : String(+v.toFixed(2));
}

export function lineChart({ title = 'Values', max = 300 } = {}) {
	const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title });
	const words = h('p', { class: 'chart-summary muted', 'aria-live': 'polite' }, 'No values yet.');
	const el = h('figure', { class: 'chart-box' }, svg, words);
	let points = [];
	let name = title;

	function draw() {
		put(svg, s('title', {}, name));
		const x0 = PAD.l;
		const x1 = W - PAD.r;
		const y0 = H - PAD.b;
		const y1 = PAD.t;
		svg.append(s('line', { x1: x0, y1: y0, x2: x1, y2: y0, class: 'axis' }), s('line', { x1: x0, y1: y1, x2: x0, y2: y0, class: 'axis' }));
		if (!points.length) {
			svg.append(s('text', { x: (x0 + x1) / 2, y: (y0 + y1) / 2, 'text-anchor': 'middle', class: 'chart-empty' }, 'waiting for values…'));
			words.textContent = 'No values yet.';
			return;
		}
		const ts = points.map((p) => p.t);
		const vs = points.map((p) => p.v);
		let tmin = Math.min(...ts);
		let tmax = Math.max(...ts);
		let vmin = Math.min(...vs);
		let vmax = Math.max(...vs);
		if (tmax === tmin) { tmin -= 1000; tmax += 1000; }
		if (vmax === vmin) { vmin -= 1; vmax += 1; }
		const X = (t) => x0 + ((t - tmin) / (tmax - tmin)) * (x1 - x0);
		const Y = (v) => y0 - ((v - vmin) / (vmax - vmin)) * (y0 - y1);
		for (const v of [vmin, (vmin + vmax) / 2, vmax]) {
			svg.append(s('line', { x1: x0, y1: Y(v), x2: x1, y2: Y(v), class: 'grid' }),
				s('text', { x: x0 - 6, y: Y(v) + 4, 'text-anchor': 'end', class: 'tick' }, label(v)));
		}
		svg.append(s('text', { x: x0, y: H - 6, class: 'tick' }, fmtMs(tmin).slice(11)),
			s('text', { x: x1, y: H - 6, 'text-anchor': 'end', class: 'tick' }, fmtMs(tmax).slice(11)));
		svg.append(s('polyline', { points: points.map((p) => `${X(p.t).toFixed(1)},${Y(p.v).toFixed(1)}`).join(' '), class: 'line' }));
		for (const p of points.slice(-60)) svg.append(s('circle', { cx: X(p.t).toFixed(1), cy: Y(p.v).toFixed(1), r: 2.5, class: 'dot' }));
		const last = points[points.length - 1];
		words.textContent = `${name}: ${points.length} value${points.length === 1 ? '' : 's'}, from ${label(Math.min(...vs))} to ${label(Math.max(...vs))}; the last ${label(last.v)} at ${fmtMs(last.t)}.`;
	}

	draw();
	return {
		el,
		add(t, v) {
			if (!Number.isFinite(v)) return;
			points.push({ t, v });
			if (points.length > max) points = points.slice(-max);
			draw();
		},
		reset(newTitle) {
			points = [];
			if (newTitle) {
				name = newTitle;
				svg.setAttribute('aria-label', newTitle);
			}
			draw();
		},
	};
}
