/*
 * The product page's codec: a JavaScript source or a declarative layout (JSON) in an
 * editor with line numbers, uploaded with PUT …/codec — a compile error is marked at its
 * line — and a test panel that runs the codec in the editor (uploaded or not) with
 * POST …/codec/test: payload hex → decoded JSON, command JSON → encoded hex. Example
 * payloads are kept per product on the server (…/codec/examples).
 */
import * as api from '../api.js';
import { h, put, uid, field, fmtTime, cleanHex } from '../dom.js';
import { errorBox } from '../widgets/error-box.js';
import { outcome } from '../widgets/outcome.js';
import { codeEditor } from '../widgets/code-editor.js';
import { jsonView } from '../widgets/json-view.js';
import { badge } from '../widgets/badge.js';
import { confirmDialog } from '../widgets/confirm.js';
import { jsonErrorLine } from './product-model.js';

/* Starting points: the README's water meter, the very files of examples/watermeter/ (the
 * daemon serves them beside the console, cmake/embed_console.cmake). Fetched once. */
const EXAMPLE_FILES = { js: 'examples/watermeter/codec.js', declarative: 'examples/watermeter/layout.json' };
const exampleSources = {};

async function exampleSource(kind) {
	if (exampleSources[kind] === undefined) {
		const res = await fetch(EXAMPLE_FILES[kind]);
		if (!res.ok) throw new Error(`${EXAMPLE_FILES[kind]}: ${res.status} ${res.statusText}`);
		exampleSources[kind] = await res.text();
	}
	return exampleSources[kind];
}

const KINDS = { js: 'JavaScript', declarative: 'Declarative layout (JSON)' };

/* The line of the source a codec's 400 names (error_line), or 0. */
function errorLine(err) {
	return err.status === 400 && err.body && Number.isInteger(err.body.error_line) ? err.body.error_line : 0;
}

function spaced(hex) {
	return (hex || '').replace(/(..)(?=.)/g, '$1 ');
}

/* A cloud_req to start the encode test from: the model's first command, paras at their
 * defaults or minimums. */
function sampleRequest(caps) {
	for (const svc of caps || []) {
		for (const cmd of svc.commands || []) {
			const paras = {};
			for (const p of cmd.paras || []) {
				if (p.default_value !== undefined) paras[p.para_name] = p.default_value;
				else if (['int', 'long', 'decimal'].includes(p.data_type)) paras[p.para_name] = p.min !== undefined ? Number(p.min) : 0;
				else if (p.data_type === 'boolean') paras[p.para_name] = false;
				else if (p.data_type === 'enum') paras[p.para_name] = (p.enum_list || [''])[0];
				else paras[p.para_name] = '';
			}
			return { msgType: 'cloudReq', serviceId: svc.service_id, cmd: cmd.command_name, paras, mid: 1 };
		}
	}
	return { msgType: 'cloudReq', serviceId: 'WaterMeter', cmd: 'SET_INTERVAL', paras: { interval: 600 }, mid: 1 };
}

export function codecEditor(product, signal) {
	const pid = product.product_id;
	let stored = null; // the codec as the server has it
	const kind = h('select', { id: uid('kind') }, Object.entries(KINDS).map(([k, t]) => h('option', { value: k }, t)));
	const editor = codeEditor({ label: 'Codec source', rows: 22 });
	const state = h('div', { class: 'codec-state', role: 'status' });
	const uploaded = outcome();
	const upload = h('button', { type: 'button' }, 'Upload codec');
	const revert = h('button', { type: 'button', class: 'secondary' }, 'Revert to the uploaded codec');
	const template = h('button', { type: 'button', class: 'secondary' }, 'Insert the water-meter example');
	const remove = h('button', { type: 'button', class: 'danger secondary' }, 'Delete codec');

	function showStored() {
		if (!stored) {
			put(state, badge('none'), ' No codec uploaded: reports of this product are not decoded.');
			revert.disabled = true;
			remove.disabled = true;
			return;
		}
		revert.disabled = false;
		remove.disabled = false;
		put(state, badge(stored.status || 'ACTIVE'), ` ${KINDS[stored.kind] || stored.kind} codec uploaded.`,
			stored.status === 'SUSPENDED' ? h('span', { class: 'error-text' }, ` Suspended since ${fmtTime(stored.since)}: ${stored.reason}. Upload it again (fixed, or the same) to resume.`) : null);
	}

	async function load() {
		put(state, 'Loading the codec…');
		try {
			stored = await api.codec.get(pid, signal);
			kind.value = stored.kind;
			editor.value = stored.source;
		} catch (err) {
			if (err.aborted) return;
			if (err.status === 404) {
				stored = null;
				kind.value = 'js';
				editor.value = '';
			} else {
				put(state, h('span', { class: 'error-text', role: 'alert' }, `Could not load the codec: ${err.toString()}`));
				return;
			}
		}
		showStored();
	}

	/* A declarative layout that is not JSON is caught here, at its line. */
	function localCheck() {
		editor.clearError();
		if (!editor.value.trim()) {
			editor.markError('The source is empty.');
			return false;
		}
		if (kind.value === 'declarative') {
			try {
				JSON.parse(editor.value);
			} catch (e) {
				const line = jsonErrorLine(editor.value, e);
				editor.markError(`The layout is not JSON: ${e.message}${line && !/line \d/.test(e.message) ? ` (line ${line})` : ''}`, line);
				return false;
			}
		}
		return true;
	}

	upload.addEventListener('click', async () => {
		if (!localCheck()) {
			uploaded.clear();
			return;
		}
		upload.disabled = true;
		const res = await uploaded.run(() => api.codec.put(pid, kind.value, editor.value), {
			pending: kind.value === 'js' ? 'Compiling on a codec thread and uploading…' : 'Uploading…',
			doneText: () => 'Uploaded: the product\'s reports are decoded with it from now on.',
			error: (err) => {
				if (err.status === 400) editor.markError(err.message, errorLine(err));
				return null;
			},
		});
		upload.disabled = false;
		if (res !== undefined) {
			// The answer is {kind, source}; an upload also resumes a suspended codec.
			stored = { ...res, status: 'ACTIVE' };
			showStored();
		}
	});
	revert.addEventListener('click', () => {
		if (!stored) return;
		kind.value = stored.kind;
		editor.value = stored.source;
		editor.clearError();
	});
	template.addEventListener('click', async () => {
		let source;
		try {
			source = await exampleSource(kind.value);
		} catch (err) {
			uploaded.run(() => Promise.reject(err));
			return;
		}
		editor.value = source;
		editor.clearError();
		editor.textarea.focus();
	});
	remove.addEventListener('click', async () => {
		const ok = await confirmDialog({ title: `Delete the codec of ${pid}?`, message: 'Reports of its devices are no longer decoded, and commands cannot be encoded.', confirm: 'Delete codec' });
		if (!ok) return;
		const r = await uploaded.run(() => api.codec.remove(pid), { pending: 'Deleting the codec…', doneText: () => 'Codec deleted.' });
		if (r !== undefined) {
			stored = null;
			showStored();
		}
	});
	kind.addEventListener('change', () => {
		const other = kind.value === 'js' ? 'declarative' : 'js';
		if (!editor.value.trim() || editor.value === exampleSources[other]) editor.value = '';
		editor.clearError();
	});

	// The test panel.
	const hex = h('input', { type: 'text', class: 'mono', autocomplete: 'off', spellcheck: 'false', placeholder: '00 57 00 01 86 A0' });
	const decodeBtn = h('button', { type: 'button' }, 'Decode');
	const decoded = outcome();
	const cloudReq = h('textarea', { rows: 6, class: 'mono', spellcheck: 'false' });
	cloudReq.value = JSON.stringify(sampleRequest(product.service_capabilities), null, 1).replace(/\n\s*/g, ' ');
	const encodeBtn = h('button', { type: 'button' }, 'Encode');
	const encoded = outcome();
	const useStored = h('input', { type: 'checkbox', id: uid('stored') });

	function testBody(extra) {
		if (useStored.checked) return extra;
		return { ...extra, kind: kind.value, source: editor.value };
	}

	/* A test that failed at a line of the source tested (it threw, ran out of time, or does
	 * not compile): that line is marked in the editor when the editor shows that source. */
	function testError(err) {
		const line = errorLine(err);
		const tested = useStored.checked ? stored && stored.source : editor.value;
		if (line && tested === editor.value) editor.markError(err.message, line);
		return null;
	}

	async function decode() {
		const payload = cleanHex(hex.value);
		if (payload === null || payload === '') {
			hex.setAttribute('aria-invalid', 'true');
			decoded.run(() => Promise.reject(new Error('The payload must be hex digits, two per byte (spaces are fine).')));
			return;
		}
		hex.removeAttribute('aria-invalid');
		if (!useStored.checked && !localCheck()) {
			decoded.run(() => Promise.reject(new Error('Fix the source first (see the editor).')));
			return;
		}
		await decoded.run(() => api.codec.test(pid, testBody({ payload_hex: payload })), {
			pending: 'Decoding…',
			doneText: () => 'Decoded:',
			error: testError,
			done: (r) => jsonView(r.decoded !== undefined ? r.decoded : r, { label: 'Decoded message' }),
		});
	}
	decodeBtn.addEventListener('click', decode);
	hex.addEventListener('keydown', (e) => {
		if (e.key === 'Enter') decode();
	});

	encodeBtn.addEventListener('click', async () => {
		let req;
		try {
			req = JSON.parse(cloudReq.value);
			cloudReq.removeAttribute('aria-invalid');
		} catch (e) {
			cloudReq.setAttribute('aria-invalid', 'true');
			encoded.run(() => Promise.reject(new Error(`The command is not JSON: ${e.message}`)));
			return;
		}
		if (!useStored.checked && !localCheck()) {
			encoded.run(() => Promise.reject(new Error('Fix the source first (see the editor).')));
			return;
		}
		await encoded.run(() => api.codec.test(pid, testBody({ cloud_req: req })), {
			pending: 'Encoding…',
			doneText: () => 'Encoded:',
			error: testError,
			done: (r) => h('p', {}, h('code', { class: 'hex-out' }, spaced(r.payload_hex)), ` (${(r.payload_hex || '').length / 2} bytes)`),
		});
	});

	// Example payloads, kept on the server.
	const exList = h('ul', { class: 'examples' });
	const exErrors = errorBox();
	const exName = h('input', { type: 'text', autocomplete: 'off' });
	const exAdd = h('button', { type: 'button', class: 'secondary' }, 'Save the payload as an example');
	const exSaved = outcome();
	let examples = null;

	function renderExamples() {
		put(exList);
		if (!examples) return;
		if (!examples.length) exList.append(h('li', { class: 'muted' }, 'No examples yet.'));
		examples.forEach((ex, i) => {
			exList.append(h('li', {},
				h('strong', {}, ex.name), ' ', h('code', {}, spaced(ex.payload_hex)), ' ',
				h('button', { type: 'button', class: 'small', 'aria-label': `Decode example ${ex.name}`, onclick: () => { hex.value = spaced(ex.payload_hex); decode(); } }, 'Decode'), ' ',
				h('button', { type: 'button', class: 'small danger secondary', 'aria-label': `Remove example ${ex.name}`, onclick: () => saveExamples(examples.filter((_, j) => j !== i), `Removed ${ex.name}.`) }, 'Remove')));
		});
	}

	async function saveExamples(list, text) {
		const r = await exSaved.run(() => api.codec.putExamples(pid, list), { pending: 'Saving the examples…', doneText: () => text });
		if (r !== undefined) {
			examples = r.examples;
			renderExamples();
		}
	}

	async function loadExamples() {
		try {
			const r = await api.codec.examples(pid, signal);
			examples = r.examples || [];
			exErrors.clear();
			renderExamples();
		} catch (err) {
			if (err.aborted) return;
			examples = null;
			renderExamples();
			exAdd.disabled = true;
			exErrors.show(err, 'Could not load the examples');
		}
	}

	exAdd.addEventListener('click', () => {
		const payload = cleanHex(hex.value);
		const name = exName.value.trim();
		if (!name || !payload) {
			exSaved.run(() => Promise.reject(new Error('Give the example a name, and a payload in hex above.')));
			return;
		}
		saveExamples([...(examples || []), { name, payload_hex: payload }], `Saved example ${name}.`).then(() => {
			exName.value = '';
		});
	});

	load();
	loadExamples();

	return h('div', { class: 'grid wide-narrow' },
		h('section', { class: 'card', 'aria-labelledby': 'codec-h' },
			h('h2', { id: 'codec-h' }, 'Codec'),
			state,
			h('p', { class: 'note' }, 'Turns the binary payloads of object 19 into properties and command answers, and commands into bytes. See docs/codec-js.md and docs/codec-declarative.md.'),
			h('div', { class: 'form-row' }, field('Kind', kind)),
			editor.el,
			h('div', { class: 'actions' }, upload, template, revert, remove),
			uploaded.el),
		h('section', { class: 'card', 'aria-labelledby': 'test-h' },
			h('h2', { id: 'test-h' }, 'Test'),
			h('div', { class: 'check' }, useStored, h('label', { for: useStored.id }, 'Test the uploaded codec instead of the editor\'s')),
			h('h3', {}, 'Decode a payload'),
			field('Payload (hex)', hex, 'what the device sends on /19/0/0'),
			h('div', { class: 'actions' }, decodeBtn),
			decoded.el,
			h('h3', {}, 'Encode a command'),
			field('Command (cloudReq JSON)', cloudReq),
			h('div', { class: 'actions' }, encodeBtn),
			encoded.el,
			h('h3', {}, 'Example payloads'),
			exErrors.el,
			exList,
			h('div', { class: 'row' }, h('label', { for: exName.id || (exName.id = uid('exname')) }, 'Example name'), exName, exAdd),
			exSaved.el));
}
