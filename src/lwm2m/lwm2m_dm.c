/*
 * lwm2m_dm: operation → CoAP request.
 */
#include "lwm2m/lwm2m_dm.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

const char *lwm2m_op_name(enum lwm2m_op op)
{
	static const char *const names[] = {
		[LWM2M_OP_READ] = "read",
		[LWM2M_OP_DISCOVER] = "discover",
		[LWM2M_OP_WRITE_REPLACE] = "write",
		[LWM2M_OP_WRITE_UPDATE] = "write-update",
		[LWM2M_OP_WRITE_ATTRIBUTES] = "write-attributes",
		[LWM2M_OP_EXECUTE] = "execute",
		[LWM2M_OP_CREATE] = "create",
		[LWM2M_OP_DELETE] = "delete",
		[LWM2M_OP_OBSERVE] = "observe",
		[LWM2M_OP_OBSERVE_CANCEL] = "observe-cancel",
		[LWM2M_OP_READ_COMPOSITE] = "read-composite",
		[LWM2M_OP_WRITE_COMPOSITE] = "write-composite",
		[LWM2M_OP_OBSERVE_COMPOSITE] = "observe-composite",
		[LWM2M_OP_OBSERVE_COMPOSITE_CANCEL] = "observe-composite-cancel",
		[LWM2M_OP_BOOTSTRAP_DISCOVER] = "bootstrap-discover",
		[LWM2M_OP_BOOTSTRAP_WRITE] = "bootstrap-write",
		[LWM2M_OP_BOOTSTRAP_DELETE] = "bootstrap-delete",
		[LWM2M_OP_BOOTSTRAP_FINISH] = "bootstrap-finish",
	};
	return (unsigned)op < sizeof(names) / sizeof(names[0]) ? names[op] : "?";
}

/* Which path depths each operation accepts (Core §6.3, Table 6.3-1/-2). */
static bool path_fits(enum lwm2m_op op, uint8_t len)
{
	switch (op) {
	case LWM2M_OP_READ:
	case LWM2M_OP_DISCOVER:
	case LWM2M_OP_WRITE_ATTRIBUTES:
	case LWM2M_OP_OBSERVE:
	case LWM2M_OP_OBSERVE_CANCEL:
		return len >= 1;
	case LWM2M_OP_WRITE_REPLACE:
		return len >= 2;
	case LWM2M_OP_WRITE_UPDATE:
		return len == 2;
	case LWM2M_OP_EXECUTE:
		return len == 3;
	case LWM2M_OP_CREATE:
		return len == 1;
	case LWM2M_OP_DELETE:
		return len == 2;
	case LWM2M_OP_READ_COMPOSITE:
	case LWM2M_OP_WRITE_COMPOSITE:
	case LWM2M_OP_OBSERVE_COMPOSITE:
	case LWM2M_OP_OBSERVE_COMPOSITE_CANCEL:
		return len == 0; /* the root: the paths are in the payload */
	case LWM2M_OP_BOOTSTRAP_DISCOVER:
		return len <= 1;
	case LWM2M_OP_BOOTSTRAP_WRITE:
		return len >= 1 && len <= 3;
	case LWM2M_OP_BOOTSTRAP_DELETE:
		return len <= 2;
	case LWM2M_OP_BOOTSTRAP_FINISH:
		return len == 0; /* /bs */
	}
	return false;
}

/* The cancellations: Observe 1 with the observation's own token (RFC 7641 §3.6). */
static bool is_cancel(enum lwm2m_op op)
{
	return op == LWM2M_OP_OBSERVE_CANCEL || op == LWM2M_OP_OBSERVE_COMPOSITE_CANCEL;
}

/* Operations whose request names paths or values in a payload of its own. */
static bool needs_payload(enum lwm2m_op op)
{
	return op == LWM2M_OP_WRITE_REPLACE || op == LWM2M_OP_WRITE_UPDATE ||
	       op == LWM2M_OP_BOOTSTRAP_WRITE ||
	       op == LWM2M_OP_READ_COMPOSITE || op == LWM2M_OP_WRITE_COMPOSITE ||
	       op == LWM2M_OP_OBSERVE_COMPOSITE || op == LWM2M_OP_OBSERVE_COMPOSITE_CANCEL;
}

/* Write-Attributes names (Core §5.1.2 and §7.3.x): "pmin", "pmax", "gt", "lt", "st",
 * "epmin", "epmax", each with a numeric value, or given without a value to clear it. */
static bool attribute_ok(const char *s, size_t n)
{
	static const char *const names[] = { "pmin", "pmax", "gt", "lt", "st", "epmin", "epmax" };
	const char *eq = memchr(s, '=', n);
	size_t name_len = eq ? (size_t)(eq - s) : n;
	bool known = false;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		known |= strlen(names[i]) == name_len && memcmp(names[i], s, name_len) == 0;
	if (!known)
		return false;
	if (!eq)
		return true;
	const char *v = eq + 1;
	size_t vn = n - name_len - 1;
	if (vn == 0)
		return false;
	for (size_t i = 0; i < vn; i++) {
		if (!strchr("0123456789.-+eE", v[i]))
			return false;
	}
	return true;
}

int lwm2m_dm_build(const struct lwm2m_dm_request *req, struct coap_msg *msg,
		   char scratch[LWM2M_DM_SCRATCH])
{
	static const uint8_t methods[] = {
		[LWM2M_OP_READ] = COAP_CODE_GET,	  [LWM2M_OP_DISCOVER] = COAP_CODE_GET,
		[LWM2M_OP_WRITE_REPLACE] = COAP_CODE_PUT, [LWM2M_OP_WRITE_UPDATE] = COAP_CODE_POST,
		[LWM2M_OP_WRITE_ATTRIBUTES] = COAP_CODE_PUT, [LWM2M_OP_EXECUTE] = COAP_CODE_POST,
		[LWM2M_OP_CREATE] = COAP_CODE_POST,	  [LWM2M_OP_DELETE] = COAP_CODE_DELETE,
		[LWM2M_OP_OBSERVE] = COAP_CODE_GET,	  [LWM2M_OP_OBSERVE_CANCEL] = COAP_CODE_GET,
		[LWM2M_OP_READ_COMPOSITE] = COAP_CODE_FETCH,
		[LWM2M_OP_WRITE_COMPOSITE] = COAP_CODE_IPATCH,
		[LWM2M_OP_OBSERVE_COMPOSITE] = COAP_CODE_FETCH,
		[LWM2M_OP_OBSERVE_COMPOSITE_CANCEL] = COAP_CODE_FETCH,
		[LWM2M_OP_BOOTSTRAP_DISCOVER] = COAP_CODE_GET,
		[LWM2M_OP_BOOTSTRAP_WRITE] = COAP_CODE_PUT,
		[LWM2M_OP_BOOTSTRAP_DELETE] = COAP_CODE_DELETE,
		[LWM2M_OP_BOOTSTRAP_FINISH] = COAP_CODE_POST,
	};
	if ((unsigned)req->op >= sizeof(methods) / sizeof(methods[0]) ||
	    !path_fits(req->op, req->path.len))
		return -EINVAL;
	bool cancel = is_cancel(req->op);
	if (cancel && (req->token_len == 0 || !req->token))
		return -EINVAL;
	int rc = coap_msg_init(msg, COAP_TYPE_CON, methods[req->op], 0,
			       cancel ? req->token : NULL, cancel ? req->token_len : 0);
	if (rc)
		return rc;
	if (req->op == LWM2M_OP_OBSERVE || req->op == LWM2M_OP_OBSERVE_COMPOSITE || cancel) {
		rc = coap_msg_add_uint_option(msg, COAP_OPTION_OBSERVE, cancel ? 1 : 0);
		if (rc)
			return rc;
	}

	/* The alternate path first ("/lwm2m" -> Uri-Path "lwm2m"), then one Uri-Path option
	 * per id, written into scratch. */
	if (req->prefix && *req->prefix) {
		rc = coap_msg_add_path(msg, COAP_OPTION_URI_PATH, req->prefix);
		if (rc)
			return rc;
	}
	if (req->op == LWM2M_OP_BOOTSTRAP_FINISH) {
		rc = coap_msg_add_option(msg, COAP_OPTION_URI_PATH, "bs", 2);
		if (rc)
			return rc;
	}
	size_t used = 0;
	for (uint8_t i = 0; i < req->path.len; i++) {
		struct lwm2m_path one = { .len = 1, .ids = { req->path.ids[i] } };
		char seg[8];
		int n = lwm2m_path_format(&one, seg, sizeof(seg)); /* "/123" */
		if (n < 2 || used + (size_t)n > LWM2M_DM_SCRATCH)
			return -EINVAL;
		memcpy(scratch + used, seg + 1, (size_t)n - 1);
		rc = coap_msg_add_option(msg, COAP_OPTION_URI_PATH, scratch + used, (size_t)n - 1);
		if (rc)
			return rc;
		used += (size_t)n - 1;
	}

	switch (req->op) {
	case LWM2M_OP_READ:
	case LWM2M_OP_OBSERVE:
	case LWM2M_OP_OBSERVE_CANCEL:
	case LWM2M_OP_READ_COMPOSITE:
	case LWM2M_OP_OBSERVE_COMPOSITE:
	case LWM2M_OP_OBSERVE_COMPOSITE_CANCEL:
		if (req->accept >= 0)
			rc = coap_msg_add_uint_option(msg, COAP_OPTION_ACCEPT, (uint32_t)req->accept);
		break;
	case LWM2M_OP_DISCOVER:
	case LWM2M_OP_BOOTSTRAP_DISCOVER:
		rc = coap_msg_add_uint_option(msg, COAP_OPTION_ACCEPT, COAP_CT_LINK_FORMAT);
		break;
	case LWM2M_OP_WRITE_ATTRIBUTES: {
		const char *a = req->attributes ? req->attributes : "";
		size_t len = strlen(a);
		if (len == 0 || used + len > LWM2M_DM_SCRATCH)
			return -EINVAL;
		memcpy(scratch + used, a, len);
		const char *p = scratch + used;
		const char *end = p + len;
		while (p < end) {
			const char *amp = memchr(p, '&', (size_t)(end - p));
			size_t n = amp ? (size_t)(amp - p) : (size_t)(end - p);
			if (!attribute_ok(p, n))
				return -EINVAL;
			rc = coap_msg_add_option(msg, COAP_OPTION_URI_QUERY, p, n);
			if (rc)
				return rc;
			p += n + (amp ? 1 : 0);
		}
		break;
	}
	default:
		break;
	}
	if (rc)
		return rc;
	if (req->block2)
		rc = coap_msg_add_uint_option(msg, COAP_OPTION_BLOCK2, coap_block_encode(req->block2));
	if (rc == 0 && req->block1)
		rc = coap_msg_add_uint_option(msg, COAP_OPTION_BLOCK1, coap_block_encode(req->block1));
	if (rc)
		return rc;
	if (req->payload_len > 0) {
		if (req->op == LWM2M_OP_READ || req->op == LWM2M_OP_DISCOVER ||
		    req->op == LWM2M_OP_DELETE || req->op == LWM2M_OP_WRITE_ATTRIBUTES ||
		    req->op == LWM2M_OP_BOOTSTRAP_DISCOVER || req->op == LWM2M_OP_BOOTSTRAP_DELETE ||
		    req->op == LWM2M_OP_BOOTSTRAP_FINISH ||
		    req->op == LWM2M_OP_OBSERVE || req->op == LWM2M_OP_OBSERVE_CANCEL)
			return -EINVAL;
		if (req->content_format >= 0) {
			rc = coap_msg_add_uint_option(msg, COAP_OPTION_CONTENT_FORMAT,
						      (uint32_t)req->content_format);
			if (rc)
				return rc;
		}
		coap_msg_set_payload(msg, req->payload, req->payload_len);
	} else if (needs_payload(req->op)) {
		return -EINVAL; /* a Write carries a value, a composite its paths */
	}
	return 0;
}
