/*
 * example: the console's "Insert the water-meter example" (console/pages/product-codec.js)
 * is the README's codec, examples/watermeter/codec.js and layout.json — the same code,
 * whatever the comments — so that the README's console steps and its curl steps give the
 * product the same codec. No browser: it reads the files.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { meter } from './walkthrough.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const page = fs.readFileSync(path.join(here, '..', '..', 'console', 'pages', 'product-codec.js'), 'utf8');

/* The page's TEMPLATES, as the template literals they are. */
function template(kind) {
	const m = new RegExp(`\\n\\t${kind}: \`([^\`]*)\``).exec(page);
	assert.ok(m, `product-codec.js has no ${kind} template`);
	return m[1];
}

/* JavaScript without its comments and blank lines. */
function code(js) {
	return js.replace(/\/\*[\s\S]*?\*\//g, '').split('\n')
		.filter((l) => l.trim() !== '' && !l.trim().startsWith('//'))
		.join('\n');
}

test('the console\'s JavaScript example is examples/watermeter/codec.js', () => {
	assert.equal(code(template('js')), code(meter.script));
});

test('the console\'s declarative example is examples/watermeter/layout.json', () => {
	const layout = JSON.parse(template('declarative'));
	/* Big-endian is the default (docs/codec-declarative.md); the console spells it out. */
	assert.equal(layout.byte_order, 'big');
	delete layout.byte_order;
	assert.deepEqual(layout, JSON.parse(meter.layout));
});
