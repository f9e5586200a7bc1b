/*
 * model_ddf: object definitions from OMA DDF XML files (the format of the OMA LwM2M
 * registry and of every vendor's object), read with expat.
 *
 *   <LWM2M><Object ObjectType="MODefinition">
 *     <Name>Temperature</Name><ObjectID>3303</ObjectID><ObjectVersion>1.1</ObjectVersion>
 *     <MultipleInstances>Multiple</MultipleInstances><Mandatory>Optional</Mandatory>
 *     <Resources>
 *       <Item ID="5700"><Name>Sensor Value</Name><Operations>R</Operations>
 *         <MultipleInstances>Single</MultipleInstances><Mandatory>Mandatory</Mandatory>
 *         <Type>Float</Type>…</Item>
 *     </Resources></Object></LWM2M>
 *
 * Loaded objects live for the process (a small list); they take precedence over the
 * built-in ones, so a newer version of a core object can be brought in the same way.
 */
#include "model/model.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "util/log.h"

#define TEXT_MAX 256
#define RESOURCES_MAX 1024
#define FILE_MAX (4 * 1024 * 1024)

const struct model_object *model_builtin(uint16_t id);

struct loaded {
	struct loaded *next;
	struct model_object obj;
	char *strings; /* names, owned */
};

static struct loaded *loaded_objects;

/* The parse state. */
struct ddf {
	XML_Parser parser;
	int depth;
	char element[32];        /* the innermost element's name */
	bool in_item;
	char text[TEXT_MAX];     /* the current element's text */
	size_t text_len;
	/* The object being read. */
	long object_id;
	char name[TEXT_MAX], version[16];
	bool multiple, mandatory;
	struct model_resource *res;
	char (*res_names)[TEXT_MAX];
	size_t res_count;
	bool res_bad_type;
	char err[160];
};

static const struct {
	const char *name;
	uint8_t type;
} ddf_types[] = {
	{ "String", LWM2M_TYPE_STRING },	{ "Integer", LWM2M_TYPE_INTEGER },
	{ "Unsigned Integer", LWM2M_TYPE_UNSIGNED }, { "Float", LWM2M_TYPE_FLOAT },
	{ "Boolean", LWM2M_TYPE_BOOLEAN },	{ "Opaque", LWM2M_TYPE_OPAQUE },
	{ "Time", LWM2M_TYPE_TIME },		{ "Objlnk", LWM2M_TYPE_OBJLNK },
	{ "Corelnk", LWM2M_TYPE_CORELNK },	{ "", LWM2M_TYPE_NONE }, /* executables */
	{ "none", LWM2M_TYPE_NONE },
};

static void fail(struct ddf *d, const char *fmt, const char *what)
{
	if (!d->err[0])
		snprintf(d->err, sizeof(d->err), fmt, what);
	XML_StopParser(d->parser, XML_FALSE);
}

static void XMLCALL on_start(void *ctx, const XML_Char *name, const XML_Char **attrs)
{
	struct ddf *d = ctx;
	d->depth++;
	snprintf(d->element, sizeof(d->element), "%s", name);
	d->text_len = 0;
	if (strcmp(name, "Item") == 0) {
		long id = -1;
		for (int i = 0; attrs[i]; i += 2) {
			if (strcmp(attrs[i], "ID") == 0) {
				char *end;
				id = strtol(attrs[i + 1], &end, 10);
				if (*end || attrs[i + 1][0] == '\0')
					id = -1;
			}
		}
		if (id < 0 || id > LWM2M_ID_MAX) {
			fail(d, "a resource %s has no valid ID", "Item");
			return;
		}
		if (d->res_count == RESOURCES_MAX) {
			fail(d, "more than %s resources", "1024");
			return;
		}
		d->in_item = true;
		struct model_resource *r = &d->res[d->res_count];
		memset(r, 0, sizeof(*r));
		r->id = (uint16_t)id;
		d->res_names[d->res_count][0] = '\0';
		d->res_count++;
	}
}

static void XMLCALL on_text(void *ctx, const XML_Char *s, int len)
{
	struct ddf *d = ctx;
	size_t room = sizeof(d->text) - 1 - d->text_len;
	size_t n = (size_t)len < room ? (size_t)len : room;
	memcpy(d->text + d->text_len, s, n);
	d->text_len += n;
}

/* The element's text without surrounding whitespace. */
static const char *trimmed(struct ddf *d)
{
	d->text[d->text_len] = '\0';
	char *s = d->text;
	while (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

static void XMLCALL on_end(void *ctx, const XML_Char *name)
{
	struct ddf *d = ctx;
	const char *text = trimmed(d);
	d->depth--;
	if (strcmp(name, "Item") == 0) {
		d->in_item = false;
	} else if (d->in_item && d->res_count > 0) {
		struct model_resource *r = &d->res[d->res_count - 1];
		if (strcmp(name, "Name") == 0) {
			snprintf(d->res_names[d->res_count - 1], TEXT_MAX, "%s", text);
		} else if (strcmp(name, "Operations") == 0) {
			r->ops = (uint8_t)((strchr(text, 'R') ? MODEL_OP_R : 0) |
					   (strchr(text, 'W') ? MODEL_OP_W : 0) |
					   (strchr(text, 'E') ? MODEL_OP_E : 0));
		} else if (strcmp(name, "MultipleInstances") == 0) {
			r->multiple = strcmp(text, "Multiple") == 0;
		} else if (strcmp(name, "Mandatory") == 0) {
			r->mandatory = strcmp(text, "Mandatory") == 0;
		} else if (strcmp(name, "Type") == 0) {
			size_t i;
			for (i = 0; i < sizeof(ddf_types) / sizeof(ddf_types[0]); i++) {
				if (strcmp(ddf_types[i].name, text) == 0)
					break;
			}
			if (i == sizeof(ddf_types) / sizeof(ddf_types[0]))
				fail(d, "unknown resource type '%s'", text);
			else
				r->type = ddf_types[i].type;
		}
	} else if (strcmp(name, "ObjectID") == 0) {
		char *end;
		d->object_id = strtol(text, &end, 10);
		if (*end || !*text || d->object_id < 0 || d->object_id > LWM2M_ID_MAX)
			fail(d, "ObjectID '%s' is not 0-65534", text);
	} else if (strcmp(name, "Name") == 0 && !d->in_item) {
		snprintf(d->name, sizeof(d->name), "%s", text);
	} else if (strcmp(name, "ObjectVersion") == 0) {
		snprintf(d->version, sizeof(d->version), "%s", text);
	} else if (strcmp(name, "MultipleInstances") == 0) {
		d->multiple = strcmp(text, "Multiple") == 0;
	} else if (strcmp(name, "Mandatory") == 0) {
		d->mandatory = strcmp(text, "Mandatory") == 0;
	}
	d->text_len = 0;
}

/* Copies the parsed object into one allocation the loaded list owns. */
static int keep(struct ddf *d)
{
	size_t strings = strlen(d->name) + 1 + strlen(d->version) + 1;
	for (size_t i = 0; i < d->res_count; i++)
		strings += strlen(d->res_names[i]) + 1;
	struct loaded *l = calloc(1, sizeof(*l));
	struct model_resource *res = calloc(d->res_count ? d->res_count : 1, sizeof(*res));
	char *buf = malloc(strings);
	if (!l || !res || !buf) {
		free(l);
		free(res);
		free(buf);
		return -ENOMEM;
	}
	char *p = buf;
	l->obj.id = (uint16_t)d->object_id;
	l->obj.name = strcpy(p, d->name);
	p += strlen(d->name) + 1;
	l->obj.version = strcpy(p, d->version);
	p += strlen(d->version) + 1;
	l->obj.multiple = d->multiple;
	l->obj.mandatory = d->mandatory;
	for (size_t i = 0; i < d->res_count; i++) {
		res[i] = d->res[i];
		res[i].name = strcpy(p, d->res_names[i]);
		p += strlen(d->res_names[i]) + 1;
	}
	l->obj.resources = res;
	l->obj.resource_count = d->res_count;
	l->strings = buf;
	l->next = loaded_objects;
	loaded_objects = l;
	return 0;
}

static const struct model_object *loaded(uint16_t id)
{
	for (struct loaded *l = loaded_objects; l; l = l->next) {
		if (l->obj.id == id)
			return &l->obj;
	}
	return NULL;
}

int model_load_ddf(const char *xml, size_t len, char *err, size_t err_cap)
{
	struct ddf *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->res = calloc(RESOURCES_MAX, sizeof(*d->res));
	d->res_names = calloc(RESOURCES_MAX, sizeof(*d->res_names));
	d->parser = XML_ParserCreate(NULL);
	int rc = -ENOMEM;
	if (!d->res || !d->res_names || !d->parser)
		goto out;
	d->object_id = -1;
	XML_SetUserData(d->parser, d);
	XML_SetElementHandler(d->parser, on_start, on_end);
	XML_SetCharacterDataHandler(d->parser, on_text);
	rc = -EBADMSG;
	if (len > INT32_MAX || XML_Parse(d->parser, xml, (int)len, XML_TRUE) != XML_STATUS_OK) {
		if (!d->err[0])
			snprintf(d->err, sizeof(d->err), "not well-formed XML (line %lu): %s",
				 (unsigned long)XML_GetCurrentLineNumber(d->parser),
				 XML_ErrorString(XML_GetErrorCode(d->parser)));
		goto out;
	}
	if (d->object_id < 0) {
		snprintf(d->err, sizeof(d->err), "no ObjectID");
		goto out;
	}
	if (loaded((uint16_t)d->object_id)) {
		snprintf(d->err, sizeof(d->err), "object %ld is loaded already", d->object_id);
		rc = -EEXIST;
		goto out;
	}
	rc = keep(d);
out:
	if (rc && err)
		snprintf(err, err_cap, "%s", d->err[0] ? d->err : "out of memory");
	if (d->parser)
		XML_ParserFree(d->parser);
	free(d->res);
	free(d->res_names);
	free(d);
	return rc;
}

int model_load_dir(const char *dir, char *err, size_t err_cap)
{
	DIR *dp = opendir(dir);
	if (!dp) {
		snprintf(err, err_cap, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	int count = 0, rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(dp))) {
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".xml") != 0)
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		char *buf = NULL;
		long size = -1;
		if (f && fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && size <= FILE_MAX &&
		    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)size + 1)) &&
		    fread(buf, 1, (size_t)size, f) == (size_t)size) {
			char why[160];
			rc = model_load_ddf(buf, (size_t)size, why, sizeof(why));
			if (rc)
				snprintf(err, err_cap, "%s: %s", path, why);
			else
				count++;
		} else {
			snprintf(err, err_cap, "%s: cannot read it (or over 4 MiB)", path);
			rc = -EIO;
		}
		free(buf);
		if (f)
			fclose(f);
	}
	closedir(dp);
	return rc ? rc : count;
}

bool model_is_loaded(uint16_t id)
{
	return loaded(id) != NULL;
}

void model_unload_all(void)
{
	while (loaded_objects) {
		struct loaded *l = loaded_objects;
		loaded_objects = l->next;
		free((void *)l->obj.resources);
		free(l->strings);
		free(l);
	}
}

const struct model_object *model_object(uint16_t id)
{
	const struct model_object *o = loaded(id);
	return o ? o : model_builtin(id);
}

void model_each(void (*fn)(const struct model_object *obj, bool is_loaded, void *ctx), void *ctx)
{
	for (struct loaded *l = loaded_objects; l; l = l->next)
		fn(&l->obj, true, ctx);
	size_t n;
	const struct model_object *all = model_objects(&n);
	for (size_t i = 0; i < n; i++) {
		if (!loaded(all[i].id))
			fn(&all[i], false, ctx);
	}
}
