/*
 * fw_package: firmware package files (docs/firmware.md "Packages").
 *
 * A package's bytes live in one file of the firmware directory named by their SHA-256
 * (lowercase hex), written once and never changed: two uploads of the same bytes share
 * it, and the registry (store_firmware.h) keeps only the metadata. An upload streams to a
 * temporary file in the same directory while it is hashed, so no upload is ever whole in
 * memory; it becomes <sha256> by rename once complete and synced.
 *
 * Serving opens a file once and shares it: every device downloading the package reads
 * blocks from the same descriptor (pread) or the same read-only mapping, never a copy.
 */
#ifndef LWM2MD_FW_PACKAGE_H
#define LWM2MD_FW_PACKAGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FW_PACKAGE_DEFAULT_MAX_BYTES (64u * 1024 * 1024)

/* An upload in progress. */
struct fw_upload;

/* Starts an upload into dir (created 0700 when missing) of at most max_bytes. Returns 0,
 * or a negative errno (the directory cannot be made or written). */
int fw_upload_begin(struct fw_upload **out, const char *dir, uint64_t max_bytes);
/* Appends len bytes. -EFBIG once the upload would pass max_bytes (the upload is then
 * useless: abort it); -EIO (and the like) when the disk refuses. */
int fw_upload_write(struct fw_upload *u, const void *data, size_t len);
/* Syncs the file and names it by its hash: sha256 gets the 64 hex digits and *size the
 * length. An empty upload is -EINVAL. The upload is freed whatever the result. */
int fw_upload_finish(struct fw_upload *u, char sha256[65], uint64_t *size);
/* Removes the temporary file and frees. Accepts NULL. */
void fw_upload_abort(struct fw_upload *u);
/* Removes the package file <dir>/<sha256> (no package refers to it any more). */
int fw_package_file_remove(const char *dir, const char *sha256);

/* An open package file, shared by everyone serving it (reference counted). */
struct fw_file;

/* Opens <dir>/<sha256>, or takes one more reference on it when it is open already (the
 * cache is per process, keyed by the hash). Returns 0, -ENOENT, or a negative errno. */
int fw_file_open(const char *dir, const char *sha256, struct fw_file **out);
/* Drops a reference; the last one closes the file (and unmaps it). Accepts NULL. */
void fw_file_release(struct fw_file *f);
uint64_t fw_file_size(const struct fw_file *f);
/* Reads up to len bytes at offset into buf: the count (0 at or past the end) or a
 * negative errno. */
ssize_t fw_file_pread(struct fw_file *f, uint64_t offset, void *buf, size_t len);
/* The whole file, mapped read-only (mapped on the first call, shared after): for a push
 * (Block1 Write of /5/0/0), whose request reads the bytes as it sends them. NULL with
 * errno set when it cannot be mapped. */
const uint8_t *fw_file_map(struct fw_file *f);

#endif
