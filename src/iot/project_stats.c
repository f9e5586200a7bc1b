/*
 * project_stats: per-project counters and the census of sleeping queue-mode devices
 * (project_stats.h).
 *
 * The census ring: slice b covers [b * width, (b + 1) * width) ms of wall-clock time and
 * sits at index b % slices, stamped with b. A slot stamped with an older slice than the
 * one being counted into holds nobody awake any more, so it is taken over (reset); a
 * registration whose slice is older than its slot's stamp is simply asleep, in no slot.
 * slices is the window's width in slices plus two, so that every slice a device may be
 * awake in (from the one `window` ago to now's) has a slot of its own.
 */
#include "iot/project_stats.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "util/hash.h"
#include "util/str.h"

struct project_stats {
	struct hmap_node node;
	char id[STORE_ID_MAX + 1];
	struct project_counters counters;
	uint64_t queue_registered;
	/* The ring, allocated with the first queue-mode registration. */
	uint32_t *slot_count;
	uint32_t *slot_stamp;
	const struct project_stats_table *table;
};

struct project_stats_table {
	struct hmap projects;
	int64_t window_ms;
	int64_t width_ms; /* of a slice */
	uint32_t slices;
};

int project_stats_table_create(struct project_stats_table **out, uint32_t queue_window_ms)
{
	struct project_stats_table *t = calloc(1, sizeof(*t));
	if (!t || hmap_init(&t->projects) != 0) {
		free(t);
		return -ENOMEM;
	}
	t->window_ms = queue_window_ms;
	/* At least a second wide; a long window is cut in PROJECT_STATS_SLICES slices. */
	t->width_ms = (t->window_ms + PROJECT_STATS_SLICES - 1) / PROJECT_STATS_SLICES;
	if (t->width_ms < 1000)
		t->width_ms = 1000;
	t->slices = (uint32_t)((t->window_ms + t->width_ms - 1) / t->width_ms + 2);
	*out = t;
	return 0;
}

static void free_project(struct hmap_node *n, void *ctx)
{
	struct project_stats *ps = container_of(n, struct project_stats, node);
	hmap_remove(ctx, n);
	free(ps->slot_count);
	free(ps->slot_stamp);
	free(ps);
}

void project_stats_table_destroy(struct project_stats_table *t)
{
	if (!t)
		return;
	hmap_for_each(&t->projects, free_project, &t->projects);
	hmap_destroy(&t->projects);
	free(t);
}

static struct project_stats *lookup(const struct project_stats_table *t, const char *id,
				    uint64_t h)
{
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &t->projects)
	{
		struct project_stats *ps = container_of(n, struct project_stats, node);
		if (strcmp(ps->id, id) == 0)
			return ps;
	}
	return NULL;
}

struct project_stats *project_stats_get(struct project_stats_table *t, const char *project_id)
{
	if (!t || !project_id)
		return NULL;
	uint64_t h = hash_str(project_id);
	struct project_stats *ps = lookup(t, project_id, h);
	if (ps)
		return ps;
	ps = calloc(1, sizeof(*ps));
	if (!ps || str_copy(ps->id, sizeof(ps->id), project_id) != 0) {
		free(ps);
		return NULL;
	}
	ps->table = t;
	hmap_insert(&t->projects, &ps->node, h);
	return ps;
}

const struct project_stats *project_stats_find(const struct project_stats_table *t,
					       const char *project_id)
{
	return t && project_id ? lookup(t, project_id, hash_str(project_id)) : NULL;
}

const char *project_stats_id(const struct project_stats *ps)
{
	return ps ? ps->id : NULL;
}

struct project_counters *project_stats_counters(struct project_stats *ps)
{
	static struct project_counters scratch; /* loop thread only */
	return ps ? &ps->counters : &scratch;
}

void project_stats_read(const struct project_stats *ps, struct project_counters *out)
{
	if (ps)
		*out = ps->counters;
	else
		memset(out, 0, sizeof(*out));
}

static uint32_t slice_of(const struct project_stats_table *t, int64_t ms)
{
	return ms <= 0 ? 0 : (uint32_t)(ms / t->width_ms);
}

/* Counts one registration into slice b, unless b is older than its slot's stamp. */
static void place(struct project_stats *ps, uint32_t b)
{
	uint32_t i = b % ps->table->slices;
	if (ps->slot_stamp[i] == b) {
		ps->slot_count[i]++;
	} else if (ps->slot_stamp[i] < b) {
		ps->slot_stamp[i] = b;
		ps->slot_count[i] = 1;
	}
}

static void unplace(struct project_stats *ps, uint32_t b)
{
	uint32_t i = b % ps->table->slices;
	if (ps->slot_stamp[i] == b && ps->slot_count[i] > 0)
		ps->slot_count[i]--;
}

void project_stats_queue_add(struct project_stats *ps, uint32_t *mark, int64_t last_seen_ms)
{
	if (!ps || *mark)
		return;
	if (!ps->slot_count) {
		ps->slot_count = calloc(ps->table->slices, sizeof(*ps->slot_count));
		ps->slot_stamp = calloc(ps->table->slices, sizeof(*ps->slot_stamp));
		if (!ps->slot_count || !ps->slot_stamp) {
			free(ps->slot_count);
			free(ps->slot_stamp);
			ps->slot_count = ps->slot_stamp = NULL;
			return; /* not counted: the census is short of one */
		}
	}
	uint32_t b = slice_of(ps->table, last_seen_ms);
	place(ps, b);
	*mark = b + 1;
	ps->queue_registered++;
}

void project_stats_queue_seen(struct project_stats *ps, uint32_t *mark, int64_t now_ms)
{
	if (!ps || !*mark)
		return;
	uint32_t b = slice_of(ps->table, now_ms);
	if (b == *mark - 1)
		return;
	unplace(ps, *mark - 1);
	place(ps, b);
	*mark = b + 1;
}

void project_stats_queue_remove(struct project_stats *ps, uint32_t *mark)
{
	if (!ps || !*mark)
		return;
	unplace(ps, *mark - 1);
	*mark = 0;
	if (ps->queue_registered)
		ps->queue_registered--;
}

void project_stats_queue_count(const struct project_stats *ps, int64_t now_ms,
			       struct project_queue_census *out)
{
	memset(out, 0, sizeof(*out));
	if (!ps)
		return;
	out->registered = ps->queue_registered;
	uint64_t awake = 0;
	if (ps->slot_count) {
		/* Awake: seen in the slice `window` ago or later (within one slice). */
		const struct project_stats_table *t = ps->table;
		uint32_t now_b = slice_of(t, now_ms);
		uint32_t oldest = slice_of(t, now_ms - t->window_ms);
		for (uint32_t i = 0; i < t->slices; i++) {
			uint32_t stamp = ps->slot_stamp[i];
			if (stamp >= oldest && stamp <= now_b)
				awake += ps->slot_count[i];
		}
	}
	out->asleep = awake < out->registered ? out->registered - awake : 0;
}
