/*
 * sim_tree: the simulated device's object tree — which objects and instances it has, the
 * value of every resource (instance), and the attributes the server wrote per path.
 *
 * Values are kept as one content/ value list, sorted by path, so that any subtree is
 * handed to the project's codecs as it is (TLV needs a resource's instances together).
 * Types come from the server's own object models (model/): the simulator and the server
 * agree on them by construction. Executable resources have no value; an instance of an
 * object the model knows has every executable resource of that object.
 */
#ifndef LWM2M_SIM_TREE_H
#define LWM2M_SIM_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "content/content.h"

#define SIM_TREE_MAX_OBJECTS 32
#define SIM_TREE_MAX_INSTANCES 64
#define SIM_TREE_MAX_ATTRS 32

/* Write-Attributes names (Core §5.1.2), in the order Discover prints them. */
enum sim_attr {
	SIM_ATTR_PMIN,
	SIM_ATTR_PMAX,
	SIM_ATTR_GT,
	SIM_ATTR_LT,
	SIM_ATTR_ST,
	SIM_ATTR_EPMIN,
	SIM_ATTR_EPMAX,
	SIM_ATTR_COUNT,
};

struct sim_attrs {
	struct lwm2m_path path;
	uint8_t set;                  /* bit per enum sim_attr */
	double value[SIM_ATTR_COUNT];
};

struct sim_tree {
	struct lwm2m_values values; /* sorted by path; paths of length 3 or 4 */
	uint16_t objects[SIM_TREE_MAX_OBJECTS];
	size_t object_count;
	struct {
		uint16_t obj, inst;
	} instances[SIM_TREE_MAX_INSTANCES];
	size_t instance_count;
	struct sim_attrs attrs[SIM_TREE_MAX_ATTRS];
	size_t attr_count;
};

/* The default device: Security /0/0, Server /1/0, Device /3/0, BinaryAppDataContainer
 * /19/0 and /19/1 (see sim_tree.c for the values). binding is /1/0/7 and /3/0/16,
 * lifetime /1/0/1. Returns 0 or -ENOMEM. */
int sim_tree_init(struct sim_tree *t, const char *binding, unsigned lifetime);
/* Frees the values. Accepts a zeroed tree. */
void sim_tree_free(struct sim_tree *t);

/* Adds the values of a SenML JSON document (a --tree file) to the tree, typed by the
 * model (untyped values of unknown objects take the SenML value's kind), creating their
 * objects and instances. Returns 0, -EBADMSG (err says why), -ENOMEM. */
int sim_tree_load_senml(struct sim_tree *t, const uint8_t *doc, size_t len, char *err,
			size_t err_cap);

/* A --tree file (a SenML JSON document of up to 64 KiB) into the tree; prints why not to
 * stderr. Returns 0 or -1. */
int sim_tree_load_file(struct sim_tree *t, const char *path);
/* --change PATH=VALUE@MS: VALUE decoded as text/plain for the model's type of PATH into
 * *out (its bytes are the caller's to free), MS into *at_ms. Returns 0 or -1. */
int sim_tree_parse_change(const char *arg, struct lwm2m_value *out, int *at_ms);

bool sim_tree_has_object(const struct sim_tree *t, uint16_t obj);
bool sim_tree_has_instance(const struct sim_tree *t, uint16_t obj, uint16_t inst);
/* Adds an instance (and its object). Returns 0, -EEXIST, -ENOSPC. */
int sim_tree_add_instance(struct sim_tree *t, uint16_t obj, uint16_t inst);
/* Removes an instance and its values. Returns 0 or -ENOENT. */
int sim_tree_remove_instance(struct sim_tree *t, uint16_t obj, uint16_t inst);
/* The lowest instance id the object does not use. */
uint16_t sim_tree_free_instance(const struct sim_tree *t, uint16_t obj);

/* Whether the resource /obj/inst/res has a value (or resource instances). */
bool sim_tree_has_resource(const struct sim_tree *t, uint16_t obj, uint16_t inst, uint16_t res);
/* The model's operations on a resource: MODEL_OP_* bits; R|W for resources no model
 * describes. */
uint8_t sim_tree_resource_ops(uint16_t obj, uint16_t res);

/* Copies every value under base into out. Returns 0 or a negative errno. */
int sim_tree_collect(const struct sim_tree *t, const struct lwm2m_path *base,
		     struct lwm2m_values *out);
/* Sets a value (path of length 3 or 4), replacing the one of the same path; a value for a
 * single-instance resource removes its resource instances and vice versa. The instance
 * must exist. Returns 0, -ENOENT (no such instance), -ENOMEM. */
int sim_tree_set(struct sim_tree *t, const struct lwm2m_value *v);
/* Removes every value under base. */
void sim_tree_remove(struct sim_tree *t, const struct lwm2m_path *base);

/* The attributes stored for exactly this path, or NULL. */
const struct sim_attrs *sim_tree_attrs(const struct sim_tree *t, const struct lwm2m_path *p);
/* The attributes in effect for p: its own, else those of its resource, instance, object
 * (Core §5.1.2: attributes of a level apply below it unless overridden). *out gets, per
 * attribute, the nearest level's value. */
void sim_tree_effective_attrs(const struct sim_tree *t, const struct lwm2m_path *p,
			      struct sim_attrs *out);
/* Applies one Write-Attributes query item ("pmin=10"; "pmin" alone clears it). Returns
 * 0, -EINVAL (unknown name or not a number), -ENOSPC. */
int sim_tree_write_attr(struct sim_tree *t, const struct lwm2m_path *p, const char *item,
			size_t len);
/* Appends ";pmin=10;pmax=60" for the attributes of exactly p to buf at *used. */
void sim_tree_format_attrs(const struct sim_tree *t, const struct lwm2m_path *p, char *buf,
			   size_t cap, size_t *used);
/* The attribute names, "pmin" ... "epmax". */
extern const char *const sim_attr_names[SIM_ATTR_COUNT];

/* The Register payload: "</>;rt="oma.lwm2m";ct=110,</1/0>,</3/0>,...", every object
 * instance but the Security object's (Core §6.2.1 leaves /0 out), and objects without
 * instances as </obj>. Returns the length or -ENOBUFS. */
int sim_tree_links(const struct sim_tree *t, char *buf, size_t cap);
/* Discover (Core §6.3.2) of p in link format with attributes. Returns the length,
 * -ENOENT, -ENOBUFS. */
int sim_tree_discover(const struct sim_tree *t, const struct lwm2m_path *p, char *buf,
		      size_t cap);

/* path → "/3/0/9" (a static buffer per call site is the caller's). */
const char *sim_path_str(const struct lwm2m_path *p, char buf[40]);

#endif
