/*
 * example: the console's "Insert the water-meter example" (console/pages/product-codec.js)
 * is the README's codec, examples/watermeter/codec.js and layout.json, so that the
 * README's console steps and its curl steps give the product the same codec. The page
 * fetches them from the daemon, which embeds them beside the console's own files; here
 * the daemon's answers are compared with the files. No browser.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startDaemon } from './harness.mjs';
import { meter } from './walkthrough.mjs';

let daemon;
before(async () => { daemon = await startDaemon(); });
after(async () => { if (daemon) await daemon.terminate(); });

async function served(file) {
	const res = await fetch(`${daemon.base}/console/examples/watermeter/${file}`);
	assert.equal(res.status, 200, `/console/examples/watermeter/${file}`);
	return res.text();
}

test('the console\'s JavaScript example is examples/watermeter/codec.js', async () => {
	assert.equal(await served('codec.js'), meter.script);
});

test('the console\'s declarative example is examples/watermeter/layout.json', async () => {
	assert.deepEqual(JSON.parse(await served('layout.json')), JSON.parse(meter.layout));
});
