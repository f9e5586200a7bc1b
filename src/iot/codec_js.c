/*
 * codec_js: a product's codec written in JavaScript, as IoTDA's codec scripts are, run by
 * Duktape (see codec.h for the contract and docs/codec-js.md for what a script sees).
 *
 * A codec owns one Duktape heap, and that heap is fenced in three ways:
 *
 * - memory: the heap's allocator counts every byte it hands out and refuses past
 *   limits->memory_bytes. Duktape then collects garbage, retries, and finally throws a
 *   RangeError ("alloc failed") inside the script, which unwinds to our protected call:
 *   -ENOMEM, and the garbage the call made is freed with its activation.
 * - time: Duktape is compiled here (CMakeLists.txt, duktape_bounded) with
 *   DUK_USE_INTERRUPT_COUNTER and DUK_USE_EXEC_TIMEOUT_CHECK, so every 256 Ki bytecode
 *   instructions it asks lwm2md_duk_exec_timeout_check() whether the heap's deadline
 *   (set before each call) has passed. Once it has, the check answers yes until the call
 *   returns, so a script that catches the RangeError is interrupted again: -ETIMEDOUT.
 *   Native code (the compiler, a huge regexp) is not interrupted; memory bounds it.
 * - errors: every entry into script code, and every Duktape call that can throw (pushing
 *   allocates; reading a property can run a getter), runs inside duk_safe_call, so an
 *   error is a return value, never a longjmp out of this file. Outside those calls this
 *   file only uses calls that cannot throw (duk_get_top, duk_is_string, duk_get_lstring,
 *   duk_pop of a value it knows is there).
 *
 * The value stack is empty between calls; each call leaves it as it found it.
 * It sits in the iot layer (docs/architecture.md) and calls only Duktape and jansson.
 */
#include "iot/codec.h"
#include "iot/codec_js_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <duktape.h>

/* The build tree's duk_config.h (CMakeLists.txt), not /usr/include's: without these the
 * heap has no deadline. */
#if !defined(DUK_USE_EXEC_TIMEOUT_CHECK) || !defined(DUK_USE_INTERRUPT_COUNTER)
#error "duktape.h without DUK_USE_EXEC_TIMEOUT_CHECK: build against duktape_bounded"
#endif

#include "util/log.h"

/* The script's name in Duktape's tracebacks ("at decode (codec.js:12)"). */
#define CODEC_JS_FILE "codec.js"

struct codec_js {
	duk_context *ctx;
	size_t mem_limit;   /* bytes the heap may hold, headers included */
	size_t mem_used;    /* bytes it holds now; never over mem_limit */
	unsigned time_ms;   /* per call */
	uint64_t deadline;  /* CLOCK_MONOTONIC ns; 0 while no call runs */
	bool timed_out;     /* the timeout check fired during this call */
	bool out_of_memory; /* the allocator refused during this call */
};

/* Every block carries its size, so that realloc and free can keep mem_used exact. The
 * union keeps the block after it aligned as malloc's would be. */
union alloc_hdr {
	size_t size;
	max_align_t align;
};

static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Called by Duktape's bytecode executor (DUK_USE_EXEC_TIMEOUT_CHECK, declared in the
 * build tree's duk_config.h) with the heap's udata: nonzero makes it throw a RangeError. */
int lwm2md_duk_exec_timeout_check(void *udata)
{
	struct codec_js *js = udata;
	if (!js || js->deadline == 0)
		return 0;
	if (js->timed_out)
		return 1;
	if (now_ns() < js->deadline)
		return 0;
	js->timed_out = true;
	return 1;
}

static void call_begin(struct codec_js *js)
{
	js->timed_out = false;
	js->out_of_memory = false;
	js->deadline = now_ns() + (uint64_t)js->time_ms * 1000000u;
}

static void call_end(struct codec_js *js)
{
	js->deadline = 0;
}

/* The heap's allocator: Duktape's three functions over malloc, bounded by mem_limit. */
static void *heap_alloc(void *udata, duk_size_t size)
{
	struct codec_js *js = udata;
	if (size > js->mem_limit - js->mem_used ||
	    sizeof(union alloc_hdr) > js->mem_limit - js->mem_used - size) {
		js->out_of_memory = true;
		return NULL;
	}
	union alloc_hdr *h = malloc(sizeof(*h) + size);
	if (!h) {
		js->out_of_memory = true;
		return NULL;
	}
	h->size = size;
	js->mem_used += sizeof(*h) + size;
	return h + 1;
}

static void heap_free(void *udata, void *ptr)
{
	struct codec_js *js = udata;
	if (!ptr)
		return;
	union alloc_hdr *h = (union alloc_hdr *)ptr - 1;
	js->mem_used -= sizeof(*h) + h->size;
	free(h);
}

static void *heap_realloc(void *udata, void *ptr, duk_size_t size)
{
	struct codec_js *js = udata;
	if (!ptr)
		return heap_alloc(udata, size);
	if (size == 0) {
		heap_free(udata, ptr);
		return NULL;
	}
	union alloc_hdr *h = (union alloc_hdr *)ptr - 1;
	size_t old = h->size;
	if (size > old && size - old > js->mem_limit - js->mem_used) {
		js->out_of_memory = true;
		return NULL;
	}
	union alloc_hdr *n = realloc(h, sizeof(*n) + size);
	if (!n) {
		js->out_of_memory = true;
		return NULL;
	}
	n->size = size;
	js->mem_used = js->mem_used - old + size;
	return n + 1;
}

/*
 * Duktape calls this on an error thrown outside any protected call, or on an internal
 * assertion; the heap is then in an undefined state and the handler must not return.
 * This file enters script code and throwing Duktape calls only through duk_safe_call
 * (see the comment atop), so it is not normally reached; if a Duktape bug or a misuse
 * here reaches it, the process says why on stderr and aborts, rather than carrying on
 * with a corrupt heap or dying without a word.
 */
static void heap_fatal(void *udata, const char *msg)
{
	(void)udata;
	LOG_ERROR("codec_js", "Duktape fatal error, aborting: %s", msg ? msg : "(no message)");
	abort();
}

static const char *type_name(duk_context *ctx, duk_idx_t idx)
{
	switch (duk_get_type(ctx, idx)) {
	case DUK_TYPE_UNDEFINED:
		return "undefined";
	case DUK_TYPE_NULL:
		return "null";
	case DUK_TYPE_BOOLEAN:
		return "a boolean";
	case DUK_TYPE_NUMBER:
		return "a number";
	case DUK_TYPE_STRING:
		return "a string";
	case DUK_TYPE_OBJECT:
		return duk_is_function(ctx, idx) ? "a function" : "an object";
	case DUK_TYPE_BUFFER:
		return "a buffer";
	default:
		return "a value of an unexpected type";
	}
}

struct describe_args {
	char *buf;
	size_t len;
};

/* The line of the codec script an error comes from, or -1: the first frame of its
 * traceback in codec.js — the innermost script frame, even when the error was made by C
 * code the script called (whose lineNumber is a line of C) — else its lineNumber when it
 * is codec.js's (a syntax error). [error] -> [error]. */
static double error_line(duk_context *ctx)
{
	double line = -1;
	if (!duk_is_object(ctx, -1))
		return -1;
	duk_get_prop_string(ctx, -1, "stack");
	const char *stack = duk_is_string(ctx, -1) ? duk_get_string(ctx, -1) : NULL;
	const char *at = stack ? strstr(stack, "(" CODEC_JS_FILE ":") : NULL;
	if (at)
		line = strtod(at + sizeof(CODEC_JS_FILE) + 1, NULL);
	duk_pop(ctx);
	if (line >= 1)
		return line;
	duk_get_prop_string(ctx, -1, "fileName");
	bool ours = duk_is_string(ctx, -1) && strcmp(duk_get_string(ctx, -1), CODEC_JS_FILE) == 0;
	duk_pop(ctx);
	duk_get_prop_string(ctx, -1, "lineNumber");
	if (ours && duk_is_number(ctx, -1))
		line = duk_get_number(ctx, -1);
	duk_pop(ctx);
	return line;
}

/* [error] -> text "TypeError: msg (line N)" in a->buf: the script's line last, in the
 * form codec_error_line reads (docs/api.md "Codecs": a 400 names the line), unless
 * Duktape's own message already ends with it ("(line 5, end of input)" of a syntax
 * error). A message of the script's own that mentions a line comes before ours.
 * Coercing a thrown value to text can run script code (its toString), hence a safe call
 * of its own. */
static duk_ret_t describe_in_heap(duk_context *ctx, void *udata)
{
	struct describe_args *a = udata;
	double line = error_line(ctx);
	const char *text = duk_to_string(ctx, -1);
	if (line >= 1 && line <= 1e9) {
		char own[48];
		snprintf(own, sizeof(own), "(line %ld", (long)line);
		const char *last = strstr(text, "(line ");
		for (const char *p = last; p; p = strstr(p + 1, "(line "))
			last = p;
		if (last && strncmp(last, own, strlen(own)) == 0 &&
		    !(last[strlen(own)] >= '0' && last[strlen(own)] <= '9')) {
			snprintf(a->buf, a->len, "%s", text);
			return 0;
		}
		snprintf(a->buf, a->len, "%s (line %ld)", text, (long)line);
	} else {
		snprintf(a->buf, a->len, "%s", text);
	}
	return 0;
}

/* A safe call failed with the error on top of the stack: pops it, fills err, and
 * returns -ETIMEDOUT, -ENOMEM or -EINVAL by what the heap saw during the call. */
static int call_failed(struct codec_js *js, const char *what, char *err, size_t errlen)
{
	char text[256] = "(an exception that cannot be shown)";
	struct describe_args a = { text, sizeof(text) };
	duk_safe_call(js->ctx, describe_in_heap, &a, 1, 1);
	duk_pop(js->ctx);
	if (js->timed_out)
		return fail(-ETIMEDOUT, err, errlen, "%s ran over its %u ms (%s)", what, js->time_ms,
			    text);
	if (js->out_of_memory)
		return fail(-ENOMEM, err, errlen, "%s ran out of its %zu bytes of heap (%s)", what,
			    js->mem_limit, text);
	return fail(-EINVAL, err, errlen, "%s threw %s", what, text);
}

struct call_args {
	const uint8_t *payload; /* decode */
	size_t len;
	const char *topic;
	const char *req; /* encode */
	size_t req_len;
	uint8_t *out;
	size_t cap;
	size_t out_len;
	const char *source; /* load */
	size_t source_len;
	int rc; /* a breach of the contract found in the heap, with err filled */
	char *err;
	size_t errlen;
};

/* Pushes the global function name, or fails the call (a->rc) and returns false. */
static bool push_function(duk_context *ctx, struct call_args *a, const char *name)
{
	if (duk_get_global_string(ctx, name) && duk_is_function(ctx, -1))
		return true;
	a->rc = fail(-EINVAL, a->err, a->errlen, "the codec script defines no %s() function",
		     name);
	return false;
}

/*
 * Code compiled at run time is code the limits do not reach: Duktape's compiler runs no
 * bytecode, so the deadline is never asked while it works, and a script that builds a
 * large source and compiles it in a loop (eval, new Function) held the thread for a
 * quarter of a second per call. A codec has no use for either, so each heap loses both
 * before the script loads: the global eval and Function, and Function.prototype.
 * constructor — which is also what (function(){}).constructor and
 * Object.getPrototypeOf(function(){}).constructor reach — become this thrower. Duktape 2.7
 * has no other route to its compiler (no generator or async function constructors, no
 * Duktape.compile). The script's own top level is compiled by duk_compile, from C.
 */
static duk_ret_t refuse_compile(duk_context *ctx)
{
	return duk_error(ctx, DUK_ERR_TYPE_ERROR,
			 "eval() and the Function constructor are not available to codecs");
}

/* obj[name] = the thrower; with proto (a stack index, or 0) as the thrower's own
 * "prototype", so that `x instanceof Function` still works. */
static void replace_with_thrower(duk_context *ctx, duk_idx_t obj, const char *name,
				 duk_idx_t proto)
{
	obj = duk_normalize_index(ctx, obj);
	proto = proto ? duk_normalize_index(ctx, proto) : 0;
	duk_push_string(ctx, name);
	duk_push_c_function(ctx, refuse_compile, DUK_VARARGS);
	if (proto) {
		duk_push_string(ctx, "prototype");
		duk_dup(ctx, proto);
		duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_CLEAR_WRITABLE |
					      DUK_DEFPROP_CLEAR_ENUMERABLE |
					      DUK_DEFPROP_CLEAR_CONFIGURABLE);
	}
	duk_def_prop(ctx, obj, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE);
}

/* [] -> [undefined], the global object's eval, Function and Function.prototype.constructor
 * replaced. */
static duk_ret_t harden_in_heap(duk_context *ctx, void *udata)
{
	(void)udata;
	duk_push_global_object(ctx);                /* [global] */
	duk_get_prop_string(ctx, -1, "Function");   /* [global Function] */
	duk_get_prop_string(ctx, -1, "prototype");  /* [global Function Function.prototype] */
	replace_with_thrower(ctx, -1, "constructor", 0);
	replace_with_thrower(ctx, -3, "Function", -1);
	replace_with_thrower(ctx, -3, "eval", 0);
	duk_pop_3(ctx);
	duk_push_undefined(ctx);
	return 1;
}

/* -> [the source's result] after running it; checks that it defined a function. */
static duk_ret_t load_in_heap(duk_context *ctx, void *udata)
{
	struct call_args *a = udata;
	duk_push_lstring(ctx, a->source, a->source_len);
	duk_push_string(ctx, CODEC_JS_FILE);
	duk_compile(ctx, 0);
	duk_call(ctx, 0);
	bool any = false;
	duk_get_global_string(ctx, "decode");
	any |= duk_is_function(ctx, -1) != 0;
	duk_get_global_string(ctx, "encode");
	any |= duk_is_function(ctx, -1) != 0;
	if (!any)
		a->rc = fail(-EINVAL, a->err, a->errlen,
			     "the codec script defines neither decode() nor encode()");
	return 0;
}

/* -> [decode(payload, topic) as a string]. */
static duk_ret_t decode_in_heap(duk_context *ctx, void *udata)
{
	struct call_args *a = udata;
	if (!push_function(ctx, a, "decode"))
		return 0;
	duk_idx_t arr = duk_push_array(ctx);
	for (size_t i = 0; i < a->len; i++) {
		duk_push_uint(ctx, a->payload[i]);
		duk_put_prop_index(ctx, arr, (duk_uarridx_t)i);
	}
	if (a->topic)
		duk_push_string(ctx, a->topic);
	else
		duk_push_undefined(ctx);
	duk_call(ctx, 2);
	if (duk_is_string(ctx, -1))
		return 1;
	if (duk_is_object(ctx, -1) && !duk_is_function(ctx, -1)) {
		duk_json_encode(ctx, -1);
		if (duk_is_string(ctx, -1))
			return 1;
		a->rc = fail(-EINVAL, a->err, a->errlen,
			     "decode() returned an object that JSON.stringify makes nothing of");
		return 0;
	}
	a->rc = fail(-EINVAL, a->err, a->errlen,
		     "decode() returned %s, not a JSON string or an object", type_name(ctx, -1));
	return 0;
}

/* encode(request) -> a->out, a->out_len. */
static duk_ret_t encode_in_heap(duk_context *ctx, void *udata)
{
	struct call_args *a = udata;
	if (!push_function(ctx, a, "encode"))
		return 0;
	duk_push_lstring(ctx, a->req, a->req_len);
	duk_call(ctx, 1);
	if (!duk_is_array(ctx, -1)) {
		a->rc = fail(-EINVAL, a->err, a->errlen,
			     "encode() returned %s, not an array of bytes", type_name(ctx, -1));
		return 0;
	}
	size_t n = duk_get_length(ctx, -1);
	if (n > a->cap) {
		a->rc = fail(-ENOSPC, a->err, a->errlen,
			     "encode() returned %zu bytes, over the %zu that fit", n, a->cap);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		duk_get_prop_index(ctx, -1, (duk_uarridx_t)i);
		if (!duk_is_number(ctx, -1)) {
			a->rc = fail(-EINVAL, a->err, a->errlen,
				     "encode() returned %s at index %zu, not a byte",
				     type_name(ctx, -1), i);
			return 0;
		}
		double d = duk_get_number(ctx, -1);
		/* Scripts write bytes as 0..255 or, from Int8Array and shifts, as -128..-1. */
		if (!(d >= -128 && d <= 255) || d != floor(d)) {
			a->rc = fail(-EINVAL, a->err, a->errlen,
				     "encode() returned %g at index %zu, not an integer in -128..255",
				     d, i);
			return 0;
		}
		a->out[i] = (uint8_t)((int)d & 0xFF);
		duk_pop(ctx);
	}
	a->out_len = n;
	return 0;
}

int codec_js_create(const char *source, size_t len, const struct codec_limits *limits,
		    struct codec_js **out, char *err, size_t errlen)
{
	if (!out || (!source && len))
		return fail(-EINVAL, err, errlen, "no codec source");
	struct codec_js *js = calloc(1, sizeof(*js));
	if (!js)
		return fail(-ENOMEM, err, errlen, "out of memory");
	js->time_ms = limits && limits->time_ms ? limits->time_ms : CODEC_DEFAULT_TIME_MS;
	js->mem_limit = limits && limits->memory_bytes ? limits->memory_bytes : CODEC_DEFAULT_MEMORY;
	js->ctx = duk_create_heap(heap_alloc, heap_realloc, heap_free, js, heap_fatal);
	if (!js->ctx) {
		free(js);
		return fail(-ENOMEM, err, errlen, "cannot create a JavaScript heap in %zu bytes",
			    limits && limits->memory_bytes ? limits->memory_bytes
							   : (size_t)CODEC_DEFAULT_MEMORY);
	}
	struct call_args a = { .source = source ? source : "", .source_len = len, .err = err,
			       .errlen = errlen };
	call_begin(js);
	int rc = 0;
	if (duk_safe_call(js->ctx, harden_in_heap, NULL, 0, 1) != DUK_EXEC_SUCCESS) {
		rc = call_failed(js, "preparing the codec's heap", err, errlen);
	} else {
		duk_pop(js->ctx);
		if (duk_safe_call(js->ctx, load_in_heap, &a, 0, 1) != DUK_EXEC_SUCCESS) {
			rc = call_failed(js, "loading the codec script", err, errlen);
		} else {
			duk_pop(js->ctx);
			rc = a.rc;
		}
	}
	call_end(js);
	if (rc) {
		codec_js_destroy(js);
		return rc;
	}
	*out = js;
	return 0;
}

void codec_js_destroy(struct codec_js *js)
{
	if (!js)
		return;
	/* Destroying the heap runs the script's finalizers (Duktape.fin): bound them too. */
	call_begin(js);
	duk_destroy_heap(js->ctx);
	free(js);
}

int codec_js_decode(struct codec_js *js, const uint8_t *payload, size_t len, const char *topic,
		    json_t **out, char *err, size_t errlen)
{
	if (!js || !out || (!payload && len))
		return fail(-EINVAL, err, errlen, "no codec, payload or output");
	if (len > CODEC_MAX_PAYLOAD)
		return fail(-EINVAL, err, errlen, "payload of %zu bytes is over %d", len,
			    CODEC_MAX_PAYLOAD);
	struct call_args a = { .payload = payload, .len = len, .topic = topic, .err = err,
			       .errlen = errlen };
	int rc;
	call_begin(js);
	if (duk_safe_call(js->ctx, decode_in_heap, &a, 0, 1) != DUK_EXEC_SUCCESS) {
		rc = call_failed(js, "decode()", err, errlen);
		goto done;
	}
	if (a.rc) {
		rc = a.rc;
		duk_pop(js->ctx);
		goto done;
	}
	size_t n = 0;
	const char *text = duk_get_lstring(js->ctx, -1, &n);
	json_error_t jerr;
	json_t *msg = json_loadb(text, n, 0, &jerr);
	duk_pop(js->ctx);
	if (!msg) {
		rc = fail(-EINVAL, err, errlen,
			  "decode() returned text that is not JSON: %s (at character %d of it)",
			  jerr.text, jerr.position);
		goto done;
	}
	*out = msg;
	rc = 0;
done:
	call_end(js);
	return rc;
}

int codec_js_encode(struct codec_js *js, const json_t *cloud_req, uint8_t *out, size_t cap,
		    size_t *out_len, char *err, size_t errlen)
{
	if (!js || !out_len || (!out && cap))
		return fail(-EINVAL, err, errlen, "no codec or output");
	if (!json_is_object(cloud_req))
		return fail(-EINVAL, err, errlen, "the command to encode is not a JSON object");
	char *req = json_dumps(cloud_req, JSON_COMPACT);
	if (!req)
		return fail(-ENOMEM, err, errlen, "out of memory");
	struct call_args a = { .req = req, .req_len = strlen(req), .out = out, .cap = cap,
			       .err = err, .errlen = errlen };
	int rc;
	call_begin(js);
	if (duk_safe_call(js->ctx, encode_in_heap, &a, 0, 1) != DUK_EXEC_SUCCESS) {
		rc = call_failed(js, "encode()", err, errlen);
	} else {
		duk_pop(js->ctx);
		rc = a.rc;
		if (!rc)
			*out_len = a.out_len;
	}
	call_end(js);
	free(req);
	return rc;
}

int codec_js_debug_stack_top(const struct codec_js *js)
{
	return (int)duk_get_top(js->ctx);
}

size_t codec_js_debug_heap_bytes(const struct codec_js *js)
{
	return js->mem_used;
}
