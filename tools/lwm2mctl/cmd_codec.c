/*
 * codec: get, set, test (decode a payload), encode (a command) — docs/api.md, "Codecs".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static void codec_path(char *out, size_t cap, const char *product, const char *rest)
{
	char esc[400];
	ctl_escape(product, esc, sizeof(esc));
	snprintf(out, cap, "/products/%s/codec%s", esc, rest);
}

static int codec_get(struct ctl *c, const struct ctl_args *a)
{
	char path[512];
	codec_path(path, sizeof(path), a->pos[0], "");
	struct ctl_resp r;
	ctl_call(c, "GET", path, NULL, 60, &r);
	int rc = ctl_check(&r, false);
	if (rc == CTL_OK && c->json) {
		ctl_print_raw(&r);
	} else if (rc == CTL_OK) {
		/* The facts, then the source as it is (it can be saved and set again). */
		json_t *j = ctl_parse(&r);
		if (j) {
			json_t *source = json_incref(json_object_get(j, "source"));
			json_object_del(j, "source");
			ctl_print_object(c, j);
			if (json_is_string(source)) {
				const char *s = json_string_value(source);
				printf("\n%s%s", s, s[0] && s[strlen(s) - 1] != '\n' ? "\n" : "");
			}
			json_decref(source);
		} else {
			rc = CTL_API_ERROR;
		}
		json_decref(j);
	}
	ctl_resp_free(&r);
	return rc;
}

/* The kind of a codec file: --kind, else .js is JavaScript and anything else declarative. */
static const char *codec_kind(const struct ctl_args *a, const char *file)
{
	const char *kind = ctl_opt(a, "kind");
	if (kind)
		return kind;
	size_t n = strlen(file);
	return n > 3 && strcmp(file + n - 3, ".js") == 0 ? "js" : "declarative";
}

static int codec_set(struct ctl *c, const struct ctl_args *a)
{
	const char *kind = codec_kind(a, a->pos[1]);
	if (strcmp(kind, "js") != 0 && strcmp(kind, "declarative") != 0)
		return ctl_usage_error("--kind must be js or declarative");
	char *source = ctl_read_file(a->pos[1], NULL);
	if (!source)
		return CTL_USAGE;
	json_t *body = json_pack("{s:s, s:s}", "kind", kind, "source", source);
	free(source);
	if (!body) {
		fprintf(stderr, "lwm2mctl: %s is not UTF-8 text\n", a->pos[1]);
		return CTL_USAGE;
	}
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	char path[512];
	codec_path(path, sizeof(path), a->pos[0], "");
	struct ctl_resp r;
	ctl_call(c, "PUT", path, text, 120, &r);
	free(text);
	int rc = ctl_check(&r, false);
	if (rc == CTL_OK && c->json)
		ctl_print_raw(&r);
	else if (rc == CTL_OK)
		printf("codec of product %s set (%s)\n", a->pos[0], kind);
	ctl_resp_free(&r);
	return rc;
}

/* codec/test with body; prints member of the answer (decoded, payload_hex). */
static int codec_test_call(struct ctl *c, const char *product, json_t *body, const char *member)
{
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	char path[512];
	codec_path(path, sizeof(path), product, "/test");
	struct ctl_resp r;
	ctl_call(c, "POST", path, text, 120, &r);
	free(text);
	int rc = ctl_check(&r, false);
	if (rc == CTL_OK && c->json) {
		ctl_print_raw(&r);
	} else if (rc == CTL_OK) {
		json_t *j = ctl_parse(&r);
		json_t *v = json_object_get(j, member);
		if (json_is_string(v))
			printf("%s\n", json_string_value(v));
		else if (v) {
			json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
			putchar('\n');
		} else
			rc = CTL_API_ERROR;
		json_decref(j);
	}
	ctl_resp_free(&r);
	return rc;
}

static int codec_test(struct ctl *c, const struct ctl_args *a)
{
	const char *hex = a->pos[1];
	if (strncmp(hex, "0x", 2) == 0)
		hex += 2;
	return codec_test_call(c, a->pos[0], json_pack("{s:s}", "payload_hex", hex), "decoded");
}

static int codec_encode(struct ctl *c, const struct ctl_args *a)
{
	/* JSON given on the command line, or @FILE. */
	const char *arg = a->pos[1];
	char *text = arg[0] == '@' ? ctl_read_file(arg + 1, NULL) : strdup(arg);
	if (!text)
		return CTL_USAGE;
	json_error_t err;
	json_t *req = json_loads(text, 0, &err);
	free(text);
	if (!json_is_object(req)) {
		json_decref(req);
		return ctl_usage_error("encode wants a JSON object (the cloudReq): %s", err.text);
	}
	if (!json_object_get(req, "msgType"))
		json_object_set_new(req, "msgType", json_string("cloudReq"));
	return codec_test_call(c, a->pos[0], json_pack("{s:o}", "cloud_req", req), "payload_hex");
}

const struct ctl_command ctl_codec_commands[] = {
	{ "codec", "get", codec_get, 1, 1, "", "PRODUCT", "show a product's codec and its source",
	  false },
	{ "codec", "set", codec_set, 2, 2, "kind=", "PRODUCT FILE [--kind js|declarative]",
	  "upload a codec (kind from the file: .js is JavaScript)", false },
	{ "codec", "test", codec_test, 2, 2, "", "PRODUCT HEX",
	  "decode a payload with the product's codec", false },
	{ "codec", "encode", codec_encode, 2, 2, "", "PRODUCT JSON|@FILE",
	  "encode a command (a cloudReq) with the product's codec", false },
	{ NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, false },
};
