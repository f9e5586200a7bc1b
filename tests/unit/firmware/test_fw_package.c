/*
 * Tests of firmware package files (fw_package.c): an upload hashed as it is written and
 * named by its SHA-256, the limits and refusals (empty, over the maximum, aborted), two
 * uploads of the same bytes sharing one file, and the cache of open files (shared
 * descriptor, pread at and past the end, one mapping).
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <mbedtls/sha256.h>

#include "firmware/fw_package.h"

/* A scratch directory per test; the firmware directory is a missing child of it, so that
 * fw_upload_begin makes it. */
struct fixture {
	char base[64];
	char dir[96];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	snprintf(f->base, sizeof(f->base), "/tmp/lwm2md-fwpkg-XXXXXX");
	if (!mkdtemp(f->base))
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/firmware", f->base);
	*state = f;
	return 0;
}

/* Files in dir (the temporary ones included). */
static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	if (!d)
		return -1;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	char path[512];
	if (!d)
		return;
	for (struct dirent *e; (e = readdir(d));) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	remove_dir(f->dir);
	rmdir(f->base);
	free(f);
	return 0;
}

static void sha_hex(const uint8_t *data, size_t len, char out[65])
{
	uint8_t d[32];
	mbedtls_sha256_ret(data, len, d, 0);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void fill(uint8_t *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (uint8_t)(seed >> 16);
	}
}

/* Uploads data in chunks of step bytes: fw_upload_finish's result. */
static int upload(const char *dir, const uint8_t *data, size_t len, size_t step,
		  uint64_t max, char sha[65], uint64_t *size)
{
	struct fw_upload *u;
	int rc = fw_upload_begin(&u, dir, max);
	if (rc != 0)
		return rc;
	for (size_t off = 0; off < len; off += step) {
		size_t n = len - off < step ? len - off : step;
		rc = fw_upload_write(u, data + off, n);
		if (rc != 0) {
			fw_upload_abort(u);
			return rc;
		}
	}
	return fw_upload_finish(u, sha, size);
}

static void test_upload_names_file_by_hash(void **state)
{
	struct fixture *f = *state;
	static uint8_t data[100000];
	char sha[65], want[65], path[256];
	uint64_t size = 0;
	struct stat st;

	fill(data, sizeof(data), 1);
	sha_hex(data, sizeof(data), want);
	/* Uneven chunks: the hash must not depend on how the bytes came. */
	assert_int_equal(upload(f->dir, data, sizeof(data), 777, sizeof(data), sha, &size), 0);
	assert_string_equal(sha, want);
	assert_int_equal(size, sizeof(data));
	/* The directory was made, ours alone; the file is 0600 and the only one there. */
	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/%s", f->dir, sha);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, sizeof(data));
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(count_files(f->dir), 1);

	/* The same bytes again: the same name, still one file. */
	assert_int_equal(upload(f->dir, data, sizeof(data), 4096, sizeof(data), sha, &size), 0);
	assert_string_equal(sha, want);
	assert_int_equal(count_files(f->dir), 1);

	assert_int_equal(fw_package_file_remove(f->dir, sha), 0);
	assert_int_equal(count_files(f->dir), 0);
	assert_int_equal(fw_package_file_remove(f->dir, sha), -ENOENT);
	/* Nothing but a hash is ever a name to remove. */
	assert_int_equal(fw_package_file_remove(f->dir, "../x"), -EINVAL);
	assert_int_equal(fw_package_file_remove(f->dir, NULL), -EINVAL);
}

static void test_upload_refusals(void **state)
{
	struct fixture *f = *state;
	uint8_t data[64];
	char sha[65];
	uint64_t size = 0;
	struct fw_upload *u;

	fill(data, sizeof(data), 2);
	/* Empty: refused, and no file left. */
	assert_int_equal(fw_upload_begin(&u, f->dir, 100), 0);
	assert_int_equal(count_files(f->dir), 1); /* the temporary file */
	assert_int_equal(fw_upload_finish(u, sha, &size), -EINVAL);
	assert_int_equal(count_files(f->dir), 0);

	/* Exactly the maximum is fine; one byte more is -EFBIG, and the write that would
	 * pass it writes nothing. */
	assert_int_equal(upload(f->dir, data, 64, 10, 64, sha, &size), 0);
	assert_int_equal(size, 64);
	assert_int_equal(fw_package_file_remove(f->dir, sha), 0);
	assert_int_equal(fw_upload_begin(&u, f->dir, 63), 0);
	assert_int_equal(fw_upload_write(u, data, 60), 0);
	assert_int_equal(fw_upload_write(u, data, 4), -EFBIG);
	assert_int_equal(fw_upload_write(u, data, 3), 0);
	assert_int_equal(fw_upload_write(u, data, 1), -EFBIG);
	fw_upload_abort(u);
	assert_int_equal(count_files(f->dir), 0);

	/* Abort after some bytes removes the temporary file. */
	assert_int_equal(fw_upload_begin(&u, f->dir, 1000), 0);
	assert_int_equal(fw_upload_write(u, data, sizeof(data)), 0);
	assert_int_equal(count_files(f->dir), 1);
	fw_upload_abort(u);
	assert_int_equal(count_files(f->dir), 0);
	fw_upload_abort(NULL);

	/* Bad arguments, and a directory that cannot be made. */
	assert_int_equal(fw_upload_begin(&u, f->dir, 0), -EINVAL);
	assert_null(u);
	assert_int_equal(fw_upload_begin(&u, "", 10), -EINVAL);
	assert_int_equal(fw_upload_begin(&u, "/nonexistent-lwm2md/a/b", 10), -ENOENT);
	assert_int_equal(fw_upload_finish(NULL, sha, &size), -EINVAL);
}

/* A temporary file a crash left a day ago goes at the next upload; a fresh one (an upload
 * in progress) stays. */
static void test_stale_temporary_files(void **state)
{
	struct fixture *f = *state;
	char old[256], fresh[256], sha[65];
	uint8_t data[10] = {1};
	uint64_t size;

	assert_int_equal(mkdir(f->dir, 0700), 0);
	snprintf(old, sizeof(old), "%s/.upload-old123", f->dir);
	snprintf(fresh, sizeof(fresh), "%s/.upload-new123", f->dir);
	FILE *a = fopen(old, "w"), *b = fopen(fresh, "w");
	assert_non_null(a);
	assert_non_null(b);
	fclose(a);
	fclose(b);
	struct timeval day_old[2] = {{.tv_sec = time(NULL) - 25 * 3600},
				     {.tv_sec = time(NULL) - 25 * 3600}};
	assert_int_equal(utimes(old, day_old), 0);
	assert_int_equal(upload(f->dir, data, sizeof(data), 10, 100, sha, &size), 0);
	struct stat st;
	assert_int_equal(stat(old, &st), -1);
	assert_int_equal(stat(fresh, &st), 0);
	assert_int_equal(count_files(f->dir), 2); /* the fresh one and the package */
}

static void test_file_cache(void **state)
{
	struct fixture *f = *state;
	static uint8_t data[10000];
	uint8_t buf[256];
	char sha[65];
	uint64_t size;
	struct fw_file *a, *b, *c;

	fill(data, sizeof(data), 3);
	assert_int_equal(upload(f->dir, data, sizeof(data), 1000, 1 << 20, sha, &size), 0);
	assert_int_equal(fw_file_open(f->dir, sha, &a), 0);
	assert_int_equal(fw_file_open(f->dir, sha, &b), 0);
	/* One entry shared: the same object, so the same descriptor. */
	assert_ptr_equal(a, b);
	assert_int_equal(fw_file_size(a), sizeof(data));

	assert_int_equal(fw_file_pread(a, 0, buf, 100), 100);
	assert_memory_equal(buf, data, 100);
	assert_int_equal(fw_file_pread(a, 9990, buf, sizeof(buf)), 10); /* clipped at the end */
	assert_memory_equal(buf, data + 9990, 10);
	assert_int_equal(fw_file_pread(a, 10000, buf, sizeof(buf)), 0);
	assert_int_equal(fw_file_pread(a, UINT64_MAX, buf, sizeof(buf)), 0);
	assert_int_equal(fw_file_pread(a, 5, buf, 0), 0);

	const uint8_t *m = fw_file_map(a);
	assert_non_null(m);
	assert_memory_equal(m, data, sizeof(data));
	assert_ptr_equal(fw_file_map(b), m); /* mapped once */

	/* Removing the name does not disturb a file being served. */
	assert_int_equal(fw_package_file_remove(f->dir, sha), 0);
	assert_int_equal(fw_file_pread(b, 5000, buf, 10), 10);
	assert_memory_equal(buf, data + 5000, 10);
	fw_file_release(a);
	assert_int_equal(fw_file_pread(b, 0, buf, 4), 4); /* b still holds it */
	fw_file_release(b);
	fw_file_release(NULL);

	/* Closed and gone: opening it again fails. */
	assert_int_equal(fw_file_open(f->dir, sha, &c), -ENOENT);
	assert_null(c);
	assert_int_equal(fw_file_open(f->dir, "not-a-hash", &c), -EINVAL);
	assert_int_equal(fw_file_open(f->dir, "../../etc/passwd", &c), -EINVAL);
	assert_int_equal(fw_file_pread(NULL, 0, buf, 1), -EINVAL);
	assert_null(fw_file_map(NULL));
}

/* Two packages open at once are two entries; each closes on its own last release. */
static void test_file_cache_two_files(void **state)
{
	struct fixture *f = *state;
	uint8_t one[100], two[200], buf[200];
	char sha1[65], sha2[65];
	uint64_t size;
	struct fw_file *a, *b, *again;

	fill(one, sizeof(one), 4);
	fill(two, sizeof(two), 5);
	assert_int_equal(upload(f->dir, one, sizeof(one), 100, 1000, sha1, &size), 0);
	assert_int_equal(upload(f->dir, two, sizeof(two), 100, 1000, sha2, &size), 0);
	assert_string_not_equal(sha1, sha2);
	assert_int_equal(fw_file_open(f->dir, sha1, &a), 0);
	assert_int_equal(fw_file_open(f->dir, sha2, &b), 0);
	assert_ptr_not_equal(a, b);
	assert_int_equal(fw_file_size(a), 100);
	assert_int_equal(fw_file_size(b), 200);
	assert_int_equal(fw_file_pread(b, 0, buf, sizeof(buf)), 200);
	assert_memory_equal(buf, two, 200);
	fw_file_release(a);
	assert_int_equal(fw_file_open(f->dir, sha2, &again), 0);
	assert_ptr_equal(again, b);
	fw_file_release(again);
	fw_file_release(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_upload_names_file_by_hash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upload_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_temporary_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_cache_two_files, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
