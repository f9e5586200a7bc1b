/*
 * Firmware (#/firmware): packages and campaigns (docs/firmware.md). Packages are listed,
 * uploaded and deleted here; campaigns are listed with their progress and created here,
 * and each is followed on its own page (firmware-campaign.js). The campaign list follows
 * the events stream (firmware and firmware_campaign events), reloaded at most once a
 * second.
 */
import * as api from '../api.js';
import { h } from '../dom.js';
import { packagesSection } from './firmware-packages.js';
import { campaignsSection } from './firmware-campaigns.js';
import { streamState, throttle } from './firmware-common.js';

const RELOAD_MS = 1000;
const PRODUCTS_PAGE = 50; // the API's largest page
const PRODUCTS_MAX = 500; // products offered in the selects (products are few)

/* The project's products, PRODUCTS_MAX at most, for the selects. */
async function allProducts(signal) {
	const out = [];
	for (let offset = 0; offset < PRODUCTS_MAX; offset += PRODUCTS_PAGE) {
		const res = await api.products.list({ limit: PRODUCTS_PAGE, offset }, signal);
		out.push(...res.products);
		const count = res.page && res.page.count;
		if (res.products.length < PRODUCTS_PAGE || (typeof count === 'number' && out.length >= count)) break;
	}
	return out;
}

export default async function firmwarePage(root, ctx) {
	ctx.setTitle('Firmware');
	const live = h('span', { class: 'stream-state', role: 'status' }, 'connecting…');
	const campaigns = campaignsSection({ signal: ctx.signal });
	const packages = packagesSection({ signal: ctx.signal, onPackages: (list) => campaigns.packages(list) });
	root.append(
		h('div', { class: 'page-head' }, h('h1', {}, 'Firmware'), live),
		h('p', { class: 'muted' }, 'Firmware packages, and campaigns that install one on many devices over LwM2M object 5, by pull (the device downloads it from lwm2md) or push.'),
		packages.el,
		campaigns.el);

	allProducts(ctx.signal).then((list) => {
		packages.products(list);
		campaigns.products(list);
	}).catch(() => {
		/* the selects stay empty; the forms say to choose a product */
	});
	packages.load();
	campaigns.load();

	const reload = throttle(() => campaigns.load(), RELOAD_MS);
	const stream = api.events({
		signal: ctx.signal,
		types: ['firmware', 'firmware_campaign'],
		onState: (s) => streamState(live, s),
		onEvent: () => reload.schedule(),
	});
	ctx.signal.addEventListener('abort', () => {
		reload.cancel();
		stream.close();
	});
}
