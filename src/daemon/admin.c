/*
 * admin: token and project management on the database (admin.h), for the operator at
 * the daemon's host. Another process may be the running daemon on the same database:
 * SQLite's locking makes that safe, and the daemon sees a revocation within half a second
 * (API_TOKEN_CACHE_MS) and ends the token's open event streams within seconds
 * (api_events.c).
 */
#include "daemon/admin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/daemon.h"
#include "store/store.h"
#include "util/str.h"
#include "util/timefmt.h"
#include "util/token.h"

#define ID_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"

static const char usage[] =
	"usage: lwm2md token create --db PATH --project P [--name NAME] [--expires DURATION|DATE]\n"
	"       lwm2md token list --db PATH [--project P]\n"
	"       lwm2md token revoke --db PATH ID\n"
	"       lwm2md project list --db PATH\n"
	"       lwm2md project create --db PATH P\n"
	"       lwm2md project delete --db PATH P\n"
	"DURATION: 90d, 12h, 30m, 3600s; DATE: 2027-01-31 or 2027-01-31T12:00:00Z (UTC)\n";

/* What the options gave; one positional argument at most. */
struct opts {
	const char *db, *project, *name, *expires, *arg;
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 3; i < argc; i++) {
		const char **slot = NULL;
		if (strcmp(argv[i], "--db") == 0)
			slot = &o->db;
		else if (strcmp(argv[i], "--project") == 0)
			slot = &o->project;
		else if (strcmp(argv[i], "--name") == 0)
			slot = &o->name;
		else if (strcmp(argv[i], "--expires") == 0)
			slot = &o->expires;
		if (slot) {
			if (i + 1 >= argc)
				return -1;
			*slot = argv[++i];
		} else if (argv[i][0] == '-' || o->arg) {
			return -1;
		} else {
			o->arg = argv[i];
		}
	}
	return o->db ? 0 : -1;
}

static int valid_id(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && n <= STORE_ID_MAX && strspn(s, ID_CHARS) == n;
}

int64_t admin_parse_expiry(const char *s, int64_t now)
{
	if (!s || !*s)
		return -1;
	/* A duration: digits and an optional unit. */
	char *end;
	errno = 0;
	long long n = strtoll(s, &end, 10);
	if (end != s && s[0] >= '0' && s[0] <= '9' && errno == 0 &&
	    (end[0] == '\0' || end[1] == '\0')) {
		long long unit = 0;
		switch (end[0]) {
		case '\0':
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		case 'w': unit = 7 * 86400; break;
		}
		if (unit && n > 0 && n <= 100LL * 366 * 86400 / unit)
			return now + n * unit;
		return -1;
	}
	/* A date, UTC. */
	struct tm tm;
	int64_t at = time_parse(s);
	if (at < 0) {
		const char *formats[] = {"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"};
		for (size_t i = 0; at < 0 && i < sizeof(formats) / sizeof(formats[0]); i++) {
			memset(&tm, 0, sizeof(tm));
			const char *rest = strptime(s, formats[i], &tm);
			if (rest && *rest == '\0')
				at = (int64_t)timegm(&tm);
		}
	}
	return at > now ? at : -1;
}

static int open_db(const char *db, struct store **store, int create)
{
	if (create)
		ensure_parent_dir(db);
	int rc = store_open(store, db);
	if (rc != 0)
		fprintf(stderr, "lwm2md: cannot open %s: %s\n", db, strerror(-rc));
	return rc;
}

static int token_create(const struct opts *o)
{
	if (!o->project || o->arg) {
		fputs(usage, stderr);
		return 2;
	}
	if (!valid_id(o->project)) {
		fprintf(stderr, "lwm2md: project must be 1-%d of [A-Za-z0-9_-]\n", STORE_ID_MAX);
		return 2;
	}
	struct store_token t;
	memset(&t, 0, sizeof(t));
	str_copy(t.project_id, sizeof(t.project_id), o->project);
	if (o->name) {
		if (strlen(o->name) > STORE_TOKEN_NAME_MAX) {
			fprintf(stderr, "lwm2md: --name is at most %d bytes\n", STORE_TOKEN_NAME_MAX);
			return 2;
		}
		str_copy(t.name, sizeof(t.name), o->name);
	}
	if (o->expires) {
		t.expire_time = admin_parse_expiry(o->expires, (int64_t)time(NULL));
		if (t.expire_time < 0) {
			fprintf(stderr, "lwm2md: --expires %s is neither a duration (90d, 12h, 30m, "
					"3600s) nor a date to come (2027-01-31, 2027-01-31T12:00:00Z)\n",
				o->expires);
			return 2;
		}
	}
	struct store *store;
	if (open_db(o->db, &store, 1) != 0)
		return 1;
	char token[TOKEN_HEX_LEN + 1], hash[TOKEN_HEX_LEN + 1];
	int rc = token_random_hex(token, sizeof(token), TOKEN_HEX_LEN / 2);
	if (rc == 0) {
		token_hash(token, hash);
		rc = store_project_ensure(store, o->project);
	}
	if (rc == 0)
		rc = store_token_add(store, &t, hash);
	store_close(store);
	if (rc != 0) {
		fprintf(stderr, "lwm2md: token not created: %s\n", strerror(-rc));
		return 1;
	}
	/* The token alone on stdout (scripts read it); its id for revoking on stderr. */
	printf("%s\n", token);
	fprintf(stderr, "token id %s (lwm2md token revoke --db %s %s)\n", t.token_id, o->db,
		t.token_id);
	return 0;
}

static const char *when(int64_t t, char out[TIME_TEXT_MAX])
{
	return t > 0 ? time_format(t, out) : "never";
}

static int print_token(void *ctx, const struct store_token *t)
{
	int64_t now = *(const int64_t *)ctx;
	char c[TIME_TEXT_MAX], e[TIME_TEXT_MAX], u[TIME_TEXT_MAX];
	printf("%-12s  %-16s  %-16s  %-16s  %-16s%s  %s\n", t->token_id, t->project_id,
	       when(t->create_time, c), when(t->last_used, u), when(t->expire_time, e),
	       t->expire_time > 0 && t->expire_time <= now ? " (expired)" : "",
	       t->name[0] ? t->name : "-");
	return 0;
}

static int token_list(const struct opts *o)
{
	if (o->arg || o->name || o->expires) {
		fputs(usage, stderr);
		return 2;
	}
	struct store *store;
	if (open_db(o->db, &store, 0) != 0)
		return 1;
	int64_t now = (int64_t)time(NULL);
	printf("%-12s  %-16s  %-16s  %-16s  %-16s  %s\n", "ID", "PROJECT", "CREATED", "LAST USED",
	       "EXPIRES", "NAME");
	int rc = store_token_list(store, o->project, print_token, &now);
	store_close(store);
	if (rc != 0) {
		fprintf(stderr, "lwm2md: tokens not listed: %s\n", strerror(-rc));
		return 1;
	}
	return 0;
}

static int token_revoke(const struct opts *o)
{
	if (!o->arg || o->name || o->expires) {
		fputs(usage, stderr);
		return 2;
	}
	struct store *store;
	if (open_db(o->db, &store, 0) != 0)
		return 1;
	int rc = store_token_delete(store, o->project, o->arg, NULL);
	store_close(store);
	if (rc == -ENOENT) {
		fprintf(stderr, "lwm2md: no token %s%s%s\n", o->arg,
			o->project ? " in project " : "", o->project ? o->project : "");
		return 1;
	}
	if (rc != 0) {
		fprintf(stderr, "lwm2md: token not revoked: %s\n", strerror(-rc));
		return 1;
	}
	printf("token %s revoked\n", o->arg);
	return 0;
}

static int print_project(void *ctx, const struct store_project *p)
{
	(void)ctx;
	char c[TIME_TEXT_MAX];
	printf("%-24s  %-16s  %8lld  %8lld  %6lld\n", p->project_id, when(p->create_time, c),
	       (long long)p->products, (long long)p->devices, (long long)p->tokens);
	return 0;
}

static int project_cmd(const char *what, const struct opts *o)
{
	int list = strcmp(what, "list") == 0;
	if (o->name || o->expires || o->project || (list ? o->arg != NULL : o->arg == NULL)) {
		fputs(usage, stderr);
		return 2;
	}
	if (!list && !valid_id(o->arg)) {
		fprintf(stderr, "lwm2md: project must be 1-%d of [A-Za-z0-9_-]\n", STORE_ID_MAX);
		return 2;
	}
	struct store *store;
	if (open_db(o->db, &store, strcmp(what, "create") == 0) != 0)
		return 1;
	int rc;
	if (list) {
		printf("%-24s  %-16s  %8s  %8s  %6s\n", "PROJECT", "CREATED", "PRODUCTS", "DEVICES",
		       "TOKENS");
		rc = store_project_list(store, print_project, NULL);
	} else if (strcmp(what, "create") == 0) {
		rc = store_project_create(store, o->arg);
	} else {
		rc = store_project_delete(store, o->arg);
	}
	store_close(store);
	if (rc == 0) {
		if (!list)
			printf("project %s %s\n", o->arg, strcmp(what, "create") == 0 ? "created" : "deleted");
		return 0;
	}
	if (rc == -EEXIST)
		fprintf(stderr, "lwm2md: project %s already exists\n", o->arg);
	else if (rc == -ENOENT)
		fprintf(stderr, "lwm2md: no project %s\n", o->arg);
	else if (rc == -EBUSY)
		fprintf(stderr, "lwm2md: project %s still has products or devices: delete them "
				"first (its tokens and forwarding rules go with it)\n",
			o->arg);
	else
		fprintf(stderr, "lwm2md: project %s failed: %s\n", what, strerror(-rc));
	return 1;
}

int admin_main(int argc, char **argv)
{
	if (argc < 2 || (strcmp(argv[1], "token") != 0 && strcmp(argv[1], "project") != 0))
		return -1;
	const char *what = argc >= 3 ? argv[2] : "";
	struct opts o;
	int bad = parse_opts(argc, argv, &o) != 0;
	if (strcmp(argv[1], "token") == 0) {
		if (!bad && strcmp(what, "create") == 0)
			return token_create(&o);
		if (!bad && strcmp(what, "list") == 0)
			return token_list(&o);
		if (!bad && strcmp(what, "revoke") == 0)
			return token_revoke(&o);
	} else if (!bad && (strcmp(what, "list") == 0 || strcmp(what, "create") == 0 ||
			    strcmp(what, "delete") == 0)) {
		return project_cmd(what, &o);
	}
	fputs(usage, stderr);
	return 2;
}
