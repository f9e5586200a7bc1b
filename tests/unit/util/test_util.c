/*
 * Tests of util/: the intrusive hash map (growth, removal, collisions), the timer heap
 * (order, re-arming, removal from the middle), addresses (parse, format, compare) and
 * bounded string copies.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/addr.h"
#include "util/base64.h"
#include "util/hash.h"
#include "util/heap.h"
#include "util/str.h"
#include "util/token.h"

struct item {
	struct hmap_node node;
	struct heap_node timer;
	int key;
};

static struct item *find(struct hmap *map, int key)
{
	uint64_t h = hash_mix((uint64_t)key);
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, map)
	{
		struct item *it = container_of(n, struct item, node);
		if (it->key == key)
			return it;
	}
	return NULL;
}

static void test_hmap_grows_and_finds(void **state)
{
	(void)state;
	struct hmap map;
	assert_int_equal(hmap_init(&map), 0);
	enum { N = 10000 };
	struct item *items = calloc(N, sizeof(*items));
	for (int i = 0; i < N; i++) {
		items[i].key = i;
		hmap_insert(&map, &items[i].node, hash_mix((uint64_t)i));
	}
	assert_int_equal(map.count, N);
	assert_true(map.mask + 1 >= N); /* load factor stays at most 1 */
	for (int i = 0; i < N; i++)
		assert_ptr_equal(find(&map, i), &items[i]);
	assert_null(find(&map, N));
	for (int i = 0; i < N; i += 2)
		hmap_remove(&map, &items[i].node);
	assert_int_equal(map.count, N / 2);
	for (int i = 0; i < N; i++)
		assert_true((find(&map, i) != NULL) == (i % 2 == 1));
	hmap_destroy(&map);
	free(items);
}

static void test_hmap_same_hash_chain(void **state)
{
	(void)state;
	struct hmap map;
	assert_int_equal(hmap_init(&map), 0);
	struct item a = {.key = 1}, b = {.key = 2}, c = {.key = 3};
	hmap_insert(&map, &a.node, 42);
	hmap_insert(&map, &b.node, 42);
	hmap_insert(&map, &c.node, 42);
	hmap_remove(&map, &b.node);
	int seen = 0;
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, 42, &map)
	seen++;
	assert_int_equal(seen, 2);
	hmap_destroy(&map);
}

static void test_heap_orders_and_rearms(void **state)
{
	(void)state;
	struct heap h = {0};
	enum { N = 1000 };
	struct item *items = calloc(N, sizeof(*items));
	srand(3);
	for (int i = 0; i < N; i++) {
		heap_node_init(&items[i].timer);
		assert_int_equal(heap_set(&h, &items[i].timer, (uint64_t)(rand() % 100000)), 0);
	}
	/* Re-arm some, remove some from the middle. */
	for (int i = 0; i < N; i += 3)
		heap_set(&h, &items[i].timer, (uint64_t)(rand() % 100000));
	for (int i = 1; i < N; i += 5)
		heap_remove(&h, &items[i].timer);
	heap_remove(&h, &items[1].timer); /* twice is harmless */
	uint64_t last = 0;
	size_t popped = 0;
	struct heap_node *top;
	while ((top = heap_top(&h))) {
		assert_true(top->key >= last);
		last = top->key;
		heap_remove(&h, top);
		assert_false(heap_node_queued(top));
		popped++;
	}
	assert_int_equal(popped, N - N / 5);
	heap_destroy(&h);
	free(items);
}

static void test_addr_parse_format(void **state)
{
	(void)state;
	struct addr a, b;
	char buf[ADDR_STR_MAX];
	assert_int_equal(addr_parse(&a, "127.0.0.1:5683"), 0);
	assert_string_equal(addr_format(&a, buf), "127.0.0.1:5683");
	assert_int_equal(addr_parse(&b, "[::1]:5684"), 0);
	assert_string_equal(addr_format(&b, buf), "[::1]:5684");
	assert_false(addr_equal(&a, &b));
	assert_int_equal(addr_parse(&b, "127.0.0.1:5683"), 0);
	assert_true(addr_equal(&a, &b));
	assert_int_equal(addr_hash(&a), addr_hash(&b));
	b.port = 5684;
	assert_false(addr_equal(&a, &b));
	assert_int_equal(addr_parse(&a, "*:5683"), 0);
	assert_string_equal(addr_format(&a, buf), "0.0.0.0:5683");
	assert_int_equal(addr_parse(&a, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"), 0);
	assert_string_equal(addr_format(&a, buf), "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
	const char *bad[] = {"", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1",
			     "1.2.3.999:1", "[::1:5683", "[::1]5683", "[zz]:1", "host:12a",
			     "1.2.3.4:123456"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(addr_parse(&a, bad[i]), -EINVAL);
}

static void test_str_copy_bounds(void **state)
{
	(void)state;
	char buf[5];
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(str_copy(buf, sizeof(buf), "abcd"), 0);
	assert_string_equal(buf, "abcd");
	assert_int_equal(str_copy(buf, sizeof(buf), "abcdef"), -E2BIG);
	assert_string_equal(buf, "abcd");
	assert_int_equal(str_copy_n(buf, sizeof(buf), "xyz123", 2), 0);
	assert_string_equal(buf, "xy");
}

static void test_token(void **state)
{
	(void)state;
	char a[TOKEN_HEX_LEN + 1], b[TOKEN_HEX_LEN + 1], h[TOKEN_HEX_LEN + 1];
	assert_int_equal(token_random_hex(a, sizeof(a), 32), 0);
	assert_int_equal(token_random_hex(b, sizeof(b), 32), 0);
	assert_int_equal(strlen(a), 64);
	assert_string_not_equal(a, b);
	assert_int_equal(strspn(a, "0123456789abcdef"), 64);
	assert_int_equal(token_random_hex(a, 10, 32), -EINVAL);
	/* SHA-256("abc"), FIPS 180-2 appendix B.1. */
	token_hash("abc", h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_base64(void **state)
{
	(void)state;
	/* RFC 4648 §10 vectors. */
	const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	const char *coded[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	char out[16];
	uint8_t back[16];
	for (int i = 0; i < 7; i++) {
		size_t n = strlen(plain[i]);
		assert_int_equal(base64_encode((const uint8_t *)plain[i], n, out), strlen(coded[i]));
		assert_string_equal(out, coded[i]);
		assert_int_equal(base64_decode(coded[i], strlen(coded[i]), back, sizeof(back)),
				 (long)n);
		assert_memory_equal(back, plain[i], n);
	}
	/* Padding is optional; everything else is strict. */
	assert_int_equal(base64_decode("Zm8", 3, back, sizeof(back)), 2);
	const char *bad[] = { "Z", "Zm9v!", "Zh==", "Zm=v", "Zg===", "Z===" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (base64_decode(bad[i], strlen(bad[i]), back, sizeof(back)) != -EINVAL)
			fail_msg("accepted %s", bad[i]);
	}
	assert_int_equal(base64_decode("Zm9vYmFy", 8, back, 5), -ENOBUFS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_hmap_grows_and_finds),
		cmocka_unit_test(test_hmap_same_hash_chain),
		cmocka_unit_test(test_heap_orders_and_rearms),
		cmocka_unit_test(test_addr_parse_format),
		cmocka_unit_test(test_str_copy_bounds),
		cmocka_unit_test(test_token),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
