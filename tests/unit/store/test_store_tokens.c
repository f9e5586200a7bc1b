/*
 * Tests of the store's token and project management (store_tokens.c): ids, names and
 * expiry of tokens, their listing and revocation; projects created, listed, deleted only
 * when empty; and schema step 13, which gives the tokens of before an id.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "schema_undo.h"
#include <sqlite3.h>

#include "store/store.h"

static int setup(void **state)
{
	char path[] = "/tmp/lwm2md-tokens-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	struct store *s;
	if (store_open(&s, path) != 0)
		return -1;
	unlink(path);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	store_close(*state);
	return 0;
}

struct seen {
	struct store_token t[8];
	int n;
};

static int collect(void *ctx, const struct store_token *t)
{
	struct seen *s = ctx;
	if (s->n == 8)
		return -ENOSPC;
	s->t[s->n++] = *t;
	return 0;
}

static void test_token_ids_and_revocation(void **state)
{
	struct store *s = *state;
	assert_int_equal(store_project_ensure(s, "p1"), 0);
	assert_int_equal(store_project_ensure(s, "p2"), 0);

	struct store_token a = {0}, b = {0}, c = {0}, got;
	strcpy(a.project_id, "p1");
	strcpy(a.name, "ci");
	a.expire_time = 2000000000;
	assert_int_equal(store_token_add(s, &a, "h1"), 0);
	assert_int_equal(strlen(a.token_id), STORE_TOKEN_ID_LEN);
	strcpy(b.project_id, "p1");
	assert_int_equal(store_token_add(s, &b, "h2"), 0);
	assert_string_not_equal(a.token_id, b.token_id);
	strcpy(c.project_id, "p2");
	assert_int_equal(store_token_add(s, &c, "h3"), 0);
	/* The same secret twice; a project that does not exist. */
	struct store_token x = b;
	assert_int_equal(store_token_add(s, &x, "h2"), -EEXIST);
	strcpy(x.project_id, "nope");
	assert_int_equal(store_token_add(s, &x, "h4"), -ENOENT);

	assert_int_equal(store_token_lookup(s, "h1", &got), 0);
	assert_string_equal(got.token_id, a.token_id);
	assert_string_equal(got.project_id, "p1");
	assert_string_equal(got.name, "ci");
	assert_int_equal(got.expire_time, 2000000000);
	assert_int_equal(got.last_used, 0);
	assert_int_equal(store_token_lookup(s, "zz", &got), -ENOENT);
	assert_int_equal(store_token_touch(s, "h1", 1234), 0);
	assert_int_equal(store_token_lookup(s, "h1", &got), 0);
	assert_int_equal(got.last_used, 1234);
	assert_int_equal(store_token_touch(s, "zz", 1234), 0); /* none: nothing to do */

	struct seen seen = {0};
	assert_int_equal(store_token_list(s, "p1", collect, &seen), 0);
	assert_int_equal(seen.n, 2);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_token_list(s, NULL, collect, &seen), 0);
	assert_int_equal(seen.n, 3);

	/* Revoking: not from another project; then at once, and only once. */
	char hash[STORE_TOKEN_HASH_MAX + 1] = "";
	assert_int_equal(store_token_delete(s, "p2", a.token_id, hash), -ENOENT);
	assert_int_equal(store_token_delete(s, "p1", a.token_id, hash), 0);
	assert_string_equal(hash, "h1");
	assert_int_equal(store_token_lookup(s, "h1", &got), -ENOENT);
	assert_int_equal(store_token_delete(s, "p1", a.token_id, hash), -ENOENT);
	assert_int_equal(store_token_delete(s, NULL, c.token_id, NULL), 0);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_token_list(s, NULL, collect, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.t[0].token_id, b.token_id);

	/* store_token_insert (the older call) gives an id too. */
	assert_int_equal(store_token_insert(s, "p2", "h5"), 0);
	assert_int_equal(store_token_lookup(s, "h5", &got), 0);
	assert_int_equal(strlen(got.token_id), STORE_TOKEN_ID_LEN);
}

struct projects {
	struct store_project p[8];
	int n;
};

static int collect_project(void *ctx, const struct store_project *p)
{
	struct projects *ps = ctx;
	if (ps->n == 8)
		return -ENOSPC;
	ps->p[ps->n++] = *p;
	return 0;
}

static void test_projects(void **state)
{
	struct store *s = *state;
	assert_int_equal(store_project_create(s, "a"), 0);
	assert_int_equal(store_project_create(s, "a"), -EEXIST);
	assert_int_equal(store_project_create(s, "b"), 0);
	assert_int_equal(store_token_insert(s, "a", "ha"), 0);
	struct store_product p = {0};
	strcpy(p.project_id, "b");
	strcpy(p.product_id, "meter");
	strcpy(p.name, "meter");
	assert_int_equal(store_product_insert(s, &p), 0);

	struct projects ps = {0};
	assert_int_equal(store_project_list(s, collect_project, &ps), 0);
	assert_int_equal(ps.n, 2);
	assert_string_equal(ps.p[0].project_id, "a");
	assert_int_equal(ps.p[0].tokens, 1);
	assert_int_equal(ps.p[1].products, 1);

	/* Not while it has a product; then with its tokens. */
	assert_int_equal(store_project_delete(s, "b"), -EBUSY);
	assert_int_equal(store_project_delete(s, "a"), 0);
	struct store_token t;
	assert_int_equal(store_token_lookup(s, "ha", &t), -ENOENT);
	assert_int_equal(store_project_delete(s, "a"), -ENOENT);
	assert_int_equal(store_product_delete(s, "b", "meter"), 0);
	assert_int_equal(store_project_delete(s, "b"), 0);
	memset(&ps, 0, sizeof(ps));
	assert_int_equal(store_project_list(s, collect_project, &ps), 0);
	assert_int_equal(ps.n, 0);
}

/* A registry of schema v12 with a token: step 13 gives it an id and it still works. */
static void test_migration_gives_ids(void **state)
{
	(void)state;
	char path[] = "/tmp/lwm2md-tokens-XXXXXX";
	sqlite3 *db = schema_registry_at(path, 12);
	schema_exec_ok(db, "INSERT INTO projects VALUES ('p1', 1);"
			   "INSERT INTO tokens VALUES ('old1', 'p1', 1), ('old2', 'p1', 2);");
	struct store *s;
	sqlite3_close(db);
	assert_int_equal(store_open(&s, path), 0);
	struct store_token a, b;
	assert_int_equal(store_token_lookup(s, "old1", &a), 0);
	assert_int_equal(store_token_lookup(s, "old2", &b), 0);
	assert_int_equal(strlen(a.token_id), STORE_TOKEN_ID_LEN);
	assert_string_not_equal(a.token_id, b.token_id);
	assert_int_equal(a.expire_time, 0);
	assert_int_equal(store_token_delete(s, "p1", a.token_id, NULL), 0);
	store_close(s);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_token_ids_and_revocation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_projects, setup, teardown),
		cmocka_unit_test(test_migration_gives_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
