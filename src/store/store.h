/*
 * store: the registry of projects, API tokens, products, devices and live registrations.
 *
 * One interface in front of the database (SQLite in WAL mode now; PostgreSQL later, see
 * docs/architecture.md). Every function is synchronous and runs on the caller's thread; the
 * caller decides when to group writes with store_begin/store_commit so that a burst of
 * device traffic costs one commit, not one per packet.
 *
 * Conventions: every function returns 0 or a negative errno. -ENOENT: no such row.
 * -EEXIST: a unique key (device_id, node_id, product_id, token) already exists. -EBUSY:
 * the row is still referenced (a product with devices). -EIO: the database failed; the
 * message is logged. Strings in the structs are NUL-terminated and truncated to their
 * field sizes by the caller's validation, never by the store. Times are Unix seconds
 * (UTC) unless a name says _ms.
 */
#ifndef LWM2MD_STORE_H
#define LWM2MD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_ID_MAX 128        /* project_id, product_id, device_id */
#define STORE_NODE_ID_MAX 64    /* node_id: 1–64 of [A-Za-z0-9_-] */
#define STORE_NAME_MAX 256      /* names */
#define STORE_TEXT_MAX 1024     /* descriptions */
#define STORE_SECRET_MAX 64     /* secret: 8–64 hex characters */
#define STORE_ADDR_MAX 64       /* "[v6addr]:port" */

struct store;

enum store_device_status {
	STORE_DEVICE_INACTIVE = 0,
	STORE_DEVICE_ONLINE = 1,
	STORE_DEVICE_OFFLINE = 2,
};

struct store_product {
	char project_id[STORE_ID_MAX + 1];
	char product_id[STORE_ID_MAX + 1];
	char name[STORE_NAME_MAX + 1];
	char device_type[STORE_NAME_MAX + 1];
	char manufacturer_name[STORE_NAME_MAX + 1];
	char protocol_type[16 + 1];  /* "LwM2M" */
	char data_format[16 + 1];    /* "binary" | "json" */
	char description[STORE_TEXT_MAX + 1];
	int64_t create_time;
	int read_format;             /* content format reads ask for (Accept), -1: none */
};

struct store_device {
	char project_id[STORE_ID_MAX + 1];
	char device_id[STORE_ID_MAX + 1];
	char node_id[STORE_NODE_ID_MAX + 1];
	char device_name[STORE_NAME_MAX + 1];
	char product_id[STORE_ID_MAX + 1];
	char description[STORE_TEXT_MAX + 1];
	char secret[STORE_SECRET_MAX + 1]; /* hex; the PSK key's bytes */
	bool secure_access;
	int64_t timeout;     /* seconds a never-connected device lives; 0 = forever */
	int status;          /* enum store_device_status */
	int64_t create_time;
	int read_format;     /* Accept of reads, -1: the product's */
};

/* A device's live LwM2M registration. One per device, keyed by node_id (the endpoint). */
struct store_registration {
	char node_id[STORE_NODE_ID_MAX + 1];
	char reg_id[32 + 1];
	int64_t lifetime;             /* seconds */
	char binding[8 + 1];          /* "U", "UQ", ... */
	char lwm2m_version[8 + 1];    /* "1.0", "1.1" */
	char *links;                  /* CoRE link payload as registered; owned by the struct */
	char peer[STORE_ADDR_MAX + 1]; /* "1.2.3.4:5683" or "[::1]:5683" */
	char transport[8 + 1];        /* "udp" | "dtls" */
	bool queue_mode;
	int64_t registered_at_ms;
	int64_t updated_at_ms;
	char project_id[STORE_ID_MAX + 1]; /* its device's: read by load_all, ignored by put */
};

/* Opens (creating if needed) the database at path and brings its schema up to date.
 * path ":memory:" gives a private in-memory database (tests). */
int store_open(struct store **out, const char *path);
/* Flushes and closes; accepts NULL. */
void store_close(struct store *s);

/* Groups writes into one transaction. A begin inside a transaction is a savepoint: its
 * commit leaves its writes to the enclosing transaction, its rollback undoes only them.
 * Each returns 0, -EIO, or -EINVAL (commit or rollback without a begin). */
int store_begin(struct store *s);
int store_commit(struct store *s);
int store_rollback(struct store *s);

/* Group commit for an event loop. Once enabled, the first statement run outside any
 * transaction opens one (the batch), which store_batch_commit commits — the daemon calls
 * it once per loop turn, before it waits for I/O again. Everything one turn wrote (the
 * reports of the datagrams it read, their commands and outbox rows) then costs one
 * commit; what a turn wrote is lost only if the process dies within that turn. Disabling
 * commits what is open. store_batch_commit returns 0, -EIO (rolled back), or -EINVAL (a
 * store_begin is still open). */
void store_batch_enable(struct store *s, bool on);
/* Whether group commit is on: a caller grouping writes needs no store_begin of its own
 * then (which would be a savepoint, and cost a copy of every page it changes). */
bool store_batching(const struct store *s);
int store_batch_commit(struct store *s);
/* Whether the open batch has changed any row: an answer that reports a stored change must
 * wait for store_batch_commit while this is true (the REST API holds it until then). */
bool store_batch_dirty(struct store *s);

/* Projects exist once named; tokens belong to one. token_hash is the lowercase hex
 * SHA-256 of the token (the store never sees the token itself). */
int store_project_ensure(struct store *s, const char *project_id);
int store_token_insert(struct store *s, const char *project_id, const char *token_hash);
/* Finds the project of a token hash: 0 and project_id filled, or -ENOENT. */
int store_token_find(struct store *s, const char *token_hash,
		     char project_id[STORE_ID_MAX + 1]);

/* Tokens and projects as they are managed (store_tokens.c). A token's id is short and not
 * secret: what it is listed and revoked by. expire_time and last_used are Unix seconds, 0
 * for never. */
#define STORE_TOKEN_ID_LEN 12
#define STORE_TOKEN_NAME_MAX 64
#define STORE_TOKEN_HASH_MAX 64 /* lowercase hex SHA-256 */
struct store_token {
	char token_id[STORE_TOKEN_ID_LEN + 1];
	char project_id[STORE_ID_MAX + 1];
	char name[STORE_TOKEN_NAME_MAX + 1];
	int64_t create_time;
	int64_t expire_time;
	int64_t last_used;
};
/* Inserts a token of t->project_id (the project must exist: -ENOENT) with a fresh random
 * id, written into t->token_id; create_time is now. */
int store_token_add(struct store *s, struct store_token *t, const char *token_hash);
/* The token of a hash (0 and t filled, or -ENOENT). */
int store_token_lookup(struct store *s, const char *token_hash, struct store_token *t);
/* Records that the token of a hash was used at now (0 also when there is none). */
int store_token_touch(struct store *s, const char *token_hash, int64_t now);
/* Calls cb for each token (of project_id, or of every project when NULL) ordered by
 * create_time then id; a non-zero cb return stops the walk and is returned. */
int store_token_list(struct store *s, const char *project_id,
		     int (*cb)(void *ctx, const struct store_token *t), void *ctx);
/* Deletes the token of id (in project_id, or any project when NULL): 0 and its hash in
 * hash_out (may be NULL), or -ENOENT. */
int store_token_delete(struct store *s, const char *project_id, const char *token_id,
		       char hash_out[STORE_TOKEN_HASH_MAX + 1]);

/* -EEXIST when it exists. */
int store_project_create(struct store *s, const char *project_id);
/* Each project with its create_time, its products' and devices' counts, its tokens'. */
struct store_project {
	char project_id[STORE_ID_MAX + 1];
	int64_t create_time;
	int64_t products, devices, tokens;
};
int store_project_list(struct store *s, int (*cb)(void *ctx, const struct store_project *p),
		       void *ctx);
/* Deletes a project with its tokens and forwarding rules: -ENOENT when there is none,
 * -EBUSY while it has products or devices (nothing is deleted). */
int store_project_delete(struct store *s, const char *project_id);

int store_product_insert(struct store *s, const struct store_product *p);
int store_product_get(struct store *s, const char *project_id, const char *product_id,
		      struct store_product *out);
/* Replaces every field but project_id, product_id and create_time. */
int store_product_update(struct store *s, const struct store_product *p);
/* -EBUSY while devices of the product exist. */
int store_product_delete(struct store *s, const char *project_id, const char *product_id);
/* Calls cb for each product of the project ordered by create_time then product_id, from
 * offset, at most limit; *total gets the number of all the project's products. A non-zero
 * return from cb stops the walk and is returned. */
int store_product_list(struct store *s, const char *project_id, int64_t offset,
		       int64_t limit, int (*cb)(const struct store_product *, void *),
		       void *ctx, int64_t *total);

/* -EEXIST when device_id or node_id is taken (node_id is unique across projects). */
int store_device_insert(struct store *s, const struct store_device *d);
int store_device_get(struct store *s, const char *project_id, const char *device_id,
		     struct store_device *out);
/* Finds a device by node_id across all projects (the LwM2M endpoint name). */
int store_device_get_by_node_id(struct store *s, const char *node_id,
				struct store_device *out);
/* Replaces device_name, description, secret, secure_access and timeout. */
int store_device_update(struct store *s, const struct store_device *d);
/* 0 also when no device has node_id or it already has that status (nothing to write). */
int store_device_set_status(struct store *s, const char *node_id, int status);
/* Deletes the device and its registration. */
int store_device_delete(struct store *s, const char *project_id, const char *device_id);
/* Listing and counting devices: store_search.h. */
/* Deletes every device still INACTIVE with timeout > 0 and create_time + timeout <= now.
 * Calls cb (may be NULL) for each before it is deleted. Returns the number deleted (>= 0)
 * or a negative errno. */
int store_device_delete_expired(struct store *s, int64_t now,
				void (*cb)(const struct store_device *, void *), void *ctx);
/* The earliest create_time + timeout among INACTIVE devices with timeout > 0:
 * 0 and *when filled, or -ENOENT when there is none. */
int store_device_next_expiry(struct store *s, int64_t *when);

/*
 * Registrations live in a file of their own beside the database (<path>.registrations),
 * written by the store's own thread (store_registry.h says why). Put and delete copy the
 * change into the batch being built and return at once (0, or -ENOMEM); submit hands that
 * batch to the writer thread; a change is on disk once the writer has committed its
 * batch. busy says whether a submitted batch is still waiting or being written (the loop
 * then keeps building rather than queue more); sync submits and waits for all of it
 * (shutdown, tests). Each is called from one thread, the store's owner.
 */
int store_registration_put(struct store *s, const struct store_registration *r);
int store_registration_delete(struct store *s, const char *node_id);
void store_registrations_submit(struct store *s);
/* Rows put or deleted since the last submit. */
size_t store_registrations_building(struct store *s);
bool store_registrations_busy(struct store *s);
void store_registrations_sync(struct store *s);
struct store_registry_stats {
	uint64_t batches;       /* batches written (committed or failed) */
	uint64_t rows;          /* puts and deletes committed */
	uint64_t errors;        /* batches that failed and were rolled back */
	uint64_t last_batch_us; /* how long the last batch took to write */
	uint64_t max_batch_us;
	uint64_t waiting;       /* rows submitted and not taken by the writer yet */
};
void store_registrations_stats(struct store *s, struct store_registry_stats *out);
/* Calls cb for every stored registration (used at start to rebuild the live table), after
 * a sync; project_id is its device's ("" when the device is gone). The struct and its
 * links are only valid during the call. */
int store_registration_load_all(struct store *s,
				int (*cb)(const struct store_registration *, void *),
				void *ctx);
/* Frees r->links (the struct itself is the caller's). Accepts NULL. */
void store_registration_clear(struct store_registration *r);

/*
 * DTLS sessions saved at shutdown (a serialized mbedTLS context per identity), so devices
 * keep their sessions across a restart. A saved session must never be loaded twice (its
 * record sequence numbers would repeat), so loading takes them: store_dtls_session_take_all
 * calls cb for each and deletes them all in the same transaction.
 */
int store_dtls_session_put(struct store *s, const char *identity, const char *peer,
			   const uint8_t *data, size_t len);
int store_dtls_session_delete(struct store *s, const char *identity);
int store_dtls_session_take_all(struct store *s,
				int (*cb)(void *ctx, const char *identity, const char *peer,
					  const uint8_t *data, size_t len),
				void *ctx);

/* Observations the daemon made (token → id, device, path, and what they asked with: the
 * Accept, -1 for none, and an Observe-Composite's paths as "/3/0/9,/1/0/1", "" for a plain
 * one), kept across restarts. */
int store_observation_put(struct store *s, const uint8_t *token, size_t token_len, uint64_t id,
			  const char *node_id, const char *path, int format, const char *paths);
int store_observation_delete(struct store *s, const uint8_t *token, size_t token_len);
int store_observation_load_all(struct store *s,
			       int (*cb)(void *ctx, const uint8_t *token, size_t token_len,
					 uint64_t id, const char *node_id, const char *path,
					 int format, const char *paths),
			       void *ctx);

#endif
