/*
 * app: the console's shell — sign-in, the navigation, and a router on location.hash that
 * loads one page module per route (console/pages/) and gives it a context: its
 * parameters, an AbortSignal that fires when the person leaves the page (so its fetches,
 * timers and event streams end with it), and setTitle.
 *
 *   #/                     overview          #/devices[?filters]    devices
 *   #/products             products          #/devices/{id}         device
 *   #/products/{id}[/codec] product          #/rules                forwarding rules
 *   #/tokens               API tokens        #/firmware             packages, campaigns
 *   #/firmware/campaigns/{id}  one campaign
 */
import * as api from './api.js';
import { h, put } from './dom.js';
import { errorBox } from './widgets/error-box.js';

const main = document.getElementById('main');
const top = document.getElementById('top');

const ROUTES = [
	{ re: /^\/?(?:overview)?$/, page: 'overview', nav: 'overview' },
	{ re: /^\/products$/, page: 'products', nav: 'products' },
	{ re: /^\/products\/([^/]+)(?:\/(model|codec))?$/, page: 'product', nav: 'products', names: ['productId', 'tab'] },
	{ re: /^\/devices$/, page: 'devices', nav: 'devices' },
	{ re: /^\/devices\/([^/]+)$/, page: 'device', nav: 'devices', names: ['deviceId'] },
	{ re: /^\/firmware$/, page: 'firmware', nav: 'firmware' },
	{ re: /^\/firmware\/campaigns\/([^/]+)$/, page: 'firmware-campaign', nav: 'firmware', names: ['campaignId'] },
	{ re: /^\/rules$/, page: 'rules', nav: 'rules' },
	{ re: /^\/tokens$/, page: 'tokens', nav: 'tokens' },
];

const NAV = [
	{ id: 'overview', href: '#/', text: 'Overview' },
	{ id: 'products', href: '#/products', text: 'Products' },
	{ id: 'devices', href: '#/devices', text: 'Devices' },
	{ id: 'firmware', href: '#/firmware', text: 'Firmware' },
	{ id: 'rules', href: '#/rules', text: 'Forwarding rules' },
	{ id: 'tokens', href: '#/tokens', text: 'Tokens' },
];

let leave = null; // aborts the page shown
let signInNote = '';
let firstRender = true;

function parseHash() {
	const raw = location.hash.replace(/^#/, '') || '/';
	const q = raw.indexOf('?');
	const path = q < 0 ? raw : raw.slice(0, q);
	const query = Object.fromEntries(new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)));
	return { path, query };
}

function renderTop(active) {
	const sess = api.session();
	if (!sess) {
		put(top, h('div', { class: 'brand' }, 'lwm2md console'));
		return;
	}
	const signOut = h('button', { type: 'button', class: 'secondary small' }, 'Sign out');
	signOut.addEventListener('click', () => {
		api.signOut();
		signInNote = 'Signed out.';
		route();
	});
	put(top,
		h('a', { class: 'brand', href: '#/' }, 'lwm2md'),
		h('nav', { 'aria-label': 'Main' },
			h('ul', {}, NAV.map((n) => h('li', {}, h('a', { href: n.href, 'aria-current': n.id === active ? 'page' : undefined }, n.text))))),
		h('div', { class: 'who' }, h('span', { class: 'muted' }, 'Project '), h('strong', { class: 'mono' }, sess.project), ' ', signOut));
}

function signInPage() {
	document.title = 'Sign in · lwm2md console';
	const token = h('input', { id: 'signin-token', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false', class: 'mono' });
	const errors = errorBox();
	const button = h('button', { type: 'submit' }, 'Sign in');
	const status = h('p', { role: 'status', class: 'muted' }, signInNote);
	signInNote = '';
	const form = h('form', { class: 'signin card', novalidate: true },
		h('h1', { tabindex: -1 }, 'Sign in'),
		h('p', {}, 'Paste an API token (', h('code', {}, 'lwm2md token create --db PATH --project P'),
			'; ', h('code', {}, 'make run'), ' keeps one in ', h('code', {}, 'var/api-token'),
			'). The console works in the token\'s project. The token is kept in this tab only (sessionStorage) and sent as X-Auth-Token.'),
		h('div', { class: 'field' }, h('label', { for: token.id }, 'API token'), token),
		errors.el, status,
		h('div', { class: 'actions' }, button));
	form.addEventListener('submit', async (e) => {
		e.preventDefault();
		errors.clear();
		if (!token.value.trim()) {
			errors.show('paste the API token first', 'Not signed in');
			token.focus();
			return;
		}
		button.disabled = true;
		status.textContent = 'Checking the token…';
		try {
			await api.signIn(token.value);
			status.textContent = '';
			if (!location.hash || location.hash === '#') location.hash = '#/';
			route();
		} catch (err) {
			status.textContent = '';
			errors.show(err, err.status === 401 ? 'The token was refused' : 'Not signed in');
			token.focus();
		} finally {
			button.disabled = false;
		}
	});
	put(main, form);
	token.focus();
}

async function route() {
	if (leave) leave.abort();
	leave = null;
	const { path, query } = parseHash();
	if (!api.session()) {
		renderTop(null);
		signInPage();
		return;
	}
	const r = ROUTES.find((x) => x.re.test(path));
	renderTop(r && r.nav);
	if (!r) {
		document.title = 'Not found · lwm2md console';
		put(main, h('h1', { tabindex: -1 }, 'Not found'), h('p', {}, 'No page at ', h('code', {}, location.hash), '. ', h('a', { href: '#/' }, 'Overview')));
		return;
	}
	const m = r.re.exec(path);
	const params = {};
	(r.names || []).forEach((n, i) => {
		params[n] = m[i + 1] === undefined ? undefined : decodeURIComponent(m[i + 1]);
	});
	const ctrl = new AbortController();
	leave = ctrl;
	const ctx = {
		params,
		query,
		signal: ctrl.signal,
		setTitle: (t) => {
			document.title = `${t} · lwm2md console`;
		},
		/* Changes the hash's query without a new page (filters). */
		setQuery(q) {
			const qs = new URLSearchParams(Object.entries(q).filter(([, v]) => v !== '' && v !== undefined && v !== null)).toString();
			history.replaceState(null, '', `#${path}${qs ? `?${qs}` : ''}`);
		},
	};
	const container = h('div', { class: `page page-${r.page}` });
	put(main, container);
	try {
		const mod = await import(`./pages/${r.page}.js`);
		if (ctrl.signal.aborted) return;
		await mod.default(container, ctx);
	} catch (err) {
		if (ctrl.signal.aborted || err.aborted) return;
		console.error(err); // eslint-disable-line no-console
		const box = errorBox();
		box.show(err, 'The page failed');
		put(container, h('h1', { tabindex: -1 }, 'Something went wrong'), box.el);
	}
	if (!firstRender && !ctrl.signal.aborted) {
		const h1 = container.querySelector('h1');
		if (h1) {
			h1.setAttribute('tabindex', '-1');
			h1.focus({ preventScroll: false });
		}
	}
	firstRender = false;
}

api.onUnauthorized((err) => {
	if (!api.session()) return;
	api.signOut();
	signInNote = `The daemon no longer accepts the token (${err.toString()}); sign in again.`;
	route();
});

window.addEventListener('hashchange', route);
route();
