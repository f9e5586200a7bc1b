/*
 * fw_package: package files in the firmware directory (fw_package.h).
 *
 * An upload is a temporary file "<dir>/.upload-XXXXXX" (mkostemp: 0600, close-on-exec)
 * hashed with SHA-256 as each chunk is written, so the hash costs no second pass over the
 * file. Finishing syncs it, renames it to "<dir>/<sha256 hex>" and syncs the directory, so
 * that a package the registry names survives a crash: the row is committed only after the
 * file is durable. Temporary names start with a dot and cannot be taken for a hash; those
 * a crash left behind are removed by a later upload once a day old.
 *
 * Open files are kept in a small list keyed by path (the directory and the hash), each
 * with a reference count: every download of a package shares one descriptor, read with
 * pread (no shared offset), and at most one read-only mapping. The list is short (one
 * entry per package being served) and guarded by a mutex, though the daemon uses it from
 * its loop thread only.
 */
#include "firmware/fw_package.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/sha256.h>

#define UPLOAD_PREFIX ".upload-"
#define UPLOAD_TEMPLATE UPLOAD_PREFIX "XXXXXX"
/* A temporary file untouched this long is a crashed daemon's: a live upload writes at
 * least every --http-request-timeout (at most an hour), or is ended. */
#define UPLOAD_STALE_S (24 * 3600)

struct fw_upload {
	int fd;
	uint64_t size, max;
	mbedtls_sha256_context sha;
	char *dir;
	char *tmp; /* the temporary file's path */
};

/* "<dir>/<name>" in a new string, or NULL. */
static char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + 1 + strlen(name) + 1;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* A package file's name: exactly 64 lowercase hex digits (nothing else is ever opened
 * or removed, so no name from outside can reach another path). */
static bool sha_valid(const char *sha256)
{
	if (!sha256 || strlen(sha256) != 64)
		return false;
	for (int i = 0; i < 64; i++) {
		char ch = sha256[i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return false;
	}
	return true;
}

/* Syncs a directory, so that a rename in it is durable. */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) == 0 ? 0 : -errno;
	close(fd);
	return rc;
}

/* Removes the temporary files a crash left behind (best effort: a file that cannot be
 * removed is left for the next upload). */
static void sweep_stale(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	time_t now = time(NULL);
	for (struct dirent *e; (e = readdir(d));) {
		struct stat st;
		if (strncmp(e->d_name, UPLOAD_PREFIX, sizeof(UPLOAD_PREFIX) - 1) != 0 ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || now - st.st_mtime < UPLOAD_STALE_S)
			continue;
		unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

int fw_upload_begin(struct fw_upload **out, const char *dir, uint64_t max_bytes)
{
	*out = NULL;
	if (!dir || !dir[0] || max_bytes == 0)
		return -EINVAL;
	/* Ours alone, like the registry's directory: an existing one is left as it is. */
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -errno;
	sweep_stale(dir);
	struct fw_upload *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->fd = -1;
	u->max = max_bytes;
	u->dir = strdup(dir);
	u->tmp = path_join(dir, UPLOAD_TEMPLATE);
	if (!u->dir || !u->tmp) {
		fw_upload_abort(u);
		return -ENOMEM;
	}
	u->fd = mkostemp(u->tmp, O_CLOEXEC);
	if (u->fd < 0) {
		int rc = -errno;
		free(u->tmp);
		u->tmp = NULL; /* nothing to remove */
		fw_upload_abort(u);
		return rc;
	}
	mbedtls_sha256_init(&u->sha);
	if (mbedtls_sha256_starts_ret(&u->sha, 0) != 0) {
		fw_upload_abort(u);
		return -EIO;
	}
	*out = u;
	return 0;
}

int fw_upload_write(struct fw_upload *u, const void *data, size_t len)
{
	if (!u || u->fd < 0)
		return -EBADF;
	if (len > u->max - u->size)
		return -EFBIG;
	const uint8_t *p = data;
	size_t left = len;
	while (left > 0) {
		ssize_t w = write(u->fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		p += w;
		left -= (size_t)w;
	}
	if (mbedtls_sha256_update_ret(&u->sha, data, len) != 0)
		return -EIO;
	u->size += len;
	return 0;
}

static void hex64(const uint8_t digest[32], char out[65])
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		out[2 * i] = digits[digest[i] >> 4];
		out[2 * i + 1] = digits[digest[i] & 15];
	}
	out[64] = '\0';
}

int fw_upload_finish(struct fw_upload *u, char sha256[65], uint64_t *size)
{
	uint8_t digest[32];
	char *final = NULL;
	int rc;

	if (!u)
		return -EINVAL;
	if (u->size == 0) {
		rc = -EINVAL;
		goto fail;
	}
	if (mbedtls_sha256_finish_ret(&u->sha, digest) != 0) {
		rc = -EIO;
		goto fail;
	}
	/* The bytes on disk before the name says they are there. */
	if (fsync(u->fd) != 0) {
		rc = -errno;
		goto fail;
	}
	rc = close(u->fd) == 0 ? 0 : -errno;
	u->fd = -1;
	if (rc != 0)
		goto fail;
	hex64(digest, sha256);
	final = path_join(u->dir, sha256);
	if (!final) {
		rc = -ENOMEM;
		goto fail;
	}
	struct stat st;
	if (stat(final, &st) == 0 && S_ISREG(st.st_mode)) {
		/* The same bytes are there already (named by their hash): keep that file. */
		unlink(u->tmp);
	} else {
		if (rename(u->tmp, final) != 0) {
			rc = -errno;
			goto fail;
		}
		rc = sync_dir(u->dir);
		if (rc != 0) {
			unlink(final);
			goto fail;
		}
	}
	*size = u->size;
	free(u->tmp);
	u->tmp = NULL;
	free(final);
	fw_upload_abort(u);
	return 0;
fail:
	free(final);
	fw_upload_abort(u);
	return rc;
}

void fw_upload_abort(struct fw_upload *u)
{
	if (!u)
		return;
	if (u->fd >= 0)
		close(u->fd);
	if (u->tmp)
		unlink(u->tmp);
	mbedtls_sha256_free(&u->sha);
	free(u->tmp);
	free(u->dir);
	free(u);
}

int fw_package_file_remove(const char *dir, const char *sha256)
{
	if (!dir || !sha_valid(sha256))
		return -EINVAL;
	char *path = path_join(dir, sha256);
	if (!path)
		return -ENOMEM;
	int rc = unlink(path) == 0 ? 0 : -errno;
	free(path);
	if (rc == 0)
		rc = sync_dir(dir);
	return rc;
}

/* The cache of open files. */
struct fw_file {
	struct fw_file *next;
	char *path;
	int fd;
	unsigned refs;
	uint64_t size;
	const uint8_t *map; /* NULL until fw_file_map */
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fw_file *cache;

int fw_file_open(const char *dir, const char *sha256, struct fw_file **out)
{
	*out = NULL;
	if (!dir || !sha_valid(sha256))
		return -EINVAL;
	char *path = path_join(dir, sha256);
	if (!path)
		return -ENOMEM;
	int rc = 0;
	pthread_mutex_lock(&cache_lock);
	for (struct fw_file *f = cache; f; f = f->next) {
		if (strcmp(f->path, path) == 0) {
			f->refs++;
			*out = f;
			goto out;
		}
	}
	struct fw_file *f = calloc(1, sizeof(*f));
	if (!f) {
		rc = -ENOMEM;
		goto out;
	}
	struct stat st;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		rc = -errno;
	else if (fstat(f->fd, &st) != 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode))
		rc = -EINVAL;
	if (rc != 0) {
		if (f->fd >= 0)
			close(f->fd);
		free(f);
		goto out;
	}
	f->path = path;
	path = NULL;
	f->size = (uint64_t)st.st_size;
	f->refs = 1;
	f->next = cache;
	cache = f;
	*out = f;
out:
	pthread_mutex_unlock(&cache_lock);
	free(path);
	return rc;
}

void fw_file_release(struct fw_file *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&cache_lock);
	if (--f->refs > 0) {
		pthread_mutex_unlock(&cache_lock);
		return;
	}
	for (struct fw_file **p = &cache; *p; p = &(*p)->next) {
		if (*p == f) {
			*p = f->next;
			break;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	if (f->map)
		munmap((void *)f->map, (size_t)f->size);
	close(f->fd);
	free(f->path);
	free(f);
}

uint64_t fw_file_size(const struct fw_file *f)
{
	return f ? f->size : 0;
}

ssize_t fw_file_pread(struct fw_file *f, uint64_t offset, void *buf, size_t len)
{
	if (!f)
		return -EINVAL;
	if (offset >= f->size)
		return 0;
	if (len > f->size - offset)
		len = (size_t)(f->size - offset);
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	size_t got = 0;
	while (got < len) {
		ssize_t r = pread(f->fd, (uint8_t *)buf + got, len - got, (off_t)(offset + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return got ? (ssize_t)got : -errno;
		if (r == 0)
			break; /* the file shrank under us: what there was */
		got += (size_t)r;
	}
	return (ssize_t)got;
}

const uint8_t *fw_file_map(struct fw_file *f)
{
	if (!f) {
		errno = EINVAL;
		return NULL;
	}
	pthread_mutex_lock(&cache_lock);
	if (!f->map && f->size > 0 && f->size <= SIZE_MAX) {
		void *m = mmap(NULL, (size_t)f->size, PROT_READ, MAP_SHARED, f->fd, 0);
		if (m != MAP_FAILED)
			f->map = m;
	} else if (f->size == 0) {
		errno = EINVAL; /* nothing to map: packages are never empty */
	}
	const uint8_t *map = f->map;
	pthread_mutex_unlock(&cache_lock);
	return map;
}
