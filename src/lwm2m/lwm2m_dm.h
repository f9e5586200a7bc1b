/*
 * lwm2m_dm: the server's side of Device Management and Service Enablement
 * (OMA-TS-LightweightM2M_Core 1.1 §6.3): which CoAP request each operation is.
 *
 *   Read              GET    /path                 Accept: the requested format
 *   Discover          GET    /path                 Accept: link-format (40)
 *   Write (replace)   PUT    /path                 Content-Format, payload
 *   Write (update)    POST   /obj/inst             Content-Format, payload
 *   Write-Attributes  PUT    /path?pmin=..&pmax=.. no payload
 *   Execute           POST   /obj/inst/res         optional text/plain arguments
 *   Create            POST   /obj                  Content-Format, payload
 *   Delete            DELETE /obj/inst
 *   Observe           GET    /path  Observe: 0  (cancel: Observe: 1, same token)
 *   Read-Composite    FETCH  /      Content-Format and Accept: SenML, payload: the paths
 *   Write-Composite   iPATCH /      Content-Format: SenML, payload: the values
 *   Observe-Composite FETCH  /      as Read-Composite, with Observe: 0
 *                                   (cancel: Observe: 1, the same token, Content-Format,
 *                                   Accept and paths)
 *
 * It only builds messages; sending them, and matching answers, is coap_ep's job, and
 * choosing the device's socket and session is the daemon's.
 */
#ifndef LWM2MD_LWM2M_DM_H
#define LWM2MD_LWM2M_DM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coap/coap_msg.h"
#include "lwm2m/lwm2m_link.h"

enum lwm2m_op {
	LWM2M_OP_READ,
	LWM2M_OP_DISCOVER,
	LWM2M_OP_WRITE_REPLACE,
	LWM2M_OP_WRITE_UPDATE,
	LWM2M_OP_WRITE_ATTRIBUTES,
	LWM2M_OP_EXECUTE,
	LWM2M_OP_CREATE,
	LWM2M_OP_DELETE,
	LWM2M_OP_OBSERVE,        /* GET with Observe 0 (RFC 7641 §3.1) */
	LWM2M_OP_OBSERVE_CANCEL, /* GET with Observe 1 and the observation's token (§3.6) */
	LWM2M_OP_READ_COMPOSITE,  /* FETCH / with the paths (SenML), Core §6.3.8 */
	LWM2M_OP_WRITE_COMPOSITE, /* iPATCH / with the values (SenML), Core §6.3.9 */
	LWM2M_OP_OBSERVE_COMPOSITE, /* FETCH / with Observe 0, Core §6.4.4 */
	/* FETCH / with Observe 1, the observation's token and the same paths (Core §6.4.5;
	 * RFC 7641 §3.6: every option as in the registration but Observe) */
	LWM2M_OP_OBSERVE_COMPOSITE_CANCEL,
};

struct lwm2m_dm_request {
	enum lwm2m_op op;
	struct lwm2m_path path;
	int accept;               /* Read: content format to ask for, or -1 */
	int content_format;       /* of payload, or -1 */
	const uint8_t *payload;   /* Write, Create, Execute arguments */
	size_t payload_len;
	/* The caller keeps payload alive and unchanged until the request ends (its done
	 * callback, or a cancel): lwm2m_requests then neither copies it nor bounds it by
	 * LWM2M_DM_MAX_BODY (a firmware package pushed from its mapped file). */
	bool payload_borrowed;
	const char *attributes;   /* Write-Attributes: "pmin=10&pmax=60" */
	const uint8_t *token;     /* the cancels: the observation's token */
	size_t token_len;
	uint32_t timeout_ms;      /* how long the caller waits for the answer */
	/* Set by lwm2m_requests, not by callers: */
	const char *prefix;       /* the device's alternate path ("/lwm2m"), NULL or "" */
	const struct coap_block *block1; /* this message carries one block of payload */
	const struct coap_block *block2; /* asks for this block of the answer */
};

/* The longest Location-Path kept from an answer ("/65534/65534" and some). */
#define LWM2M_DM_LOCATION_MAX 64

/* What came back: status 0 with the CoAP answer, or a negative errno (-ETIMEDOUT,
 * -ECONNRESET for an RST, -ENOTCONN when the device is not registered). */
struct lwm2m_dm_result {
	int status;
	uint8_t code;
	int content_format;       /* -1 when the answer had none */
	const uint8_t *payload;
	size_t payload_len;
	uint8_t token[8];         /* the request's token (an observation is known by it) */
	uint8_t token_len;
	bool observing;           /* the answer carried an Observe option */
	uint64_t held_ms;         /* how long it waited for a sleeping device to wake */
	bool never_sent;          /* the device did not wake before the deadline */
	/* The answer's Location-Path below the device's alternate path, "/19/3" (a Create's
	 * new instance, Transport §6.4.4), or "" when it had none or a longer one. */
	char location[LWM2M_DM_LOCATION_MAX];
};

/* The block size of writes sent block-wise (RFC 7959 Block1), and the largest answer
 * assembled from Block2 blocks. */
#define LWM2M_DM_BLOCK_SZX 6 /* 1024 bytes */
#define LWM2M_DM_MAX_BODY 65536

/* Bytes of scratch lwm2m_dm_build needs for the path and attribute strings. */
#define LWM2M_DM_SCRATCH 512

/*
 * Fills msg as a CON request for req (message id and token are coap_ep's to set); below
 * req->prefix when the device registered an alternate path (Core §6.2.1.1). Option
 * values point into scratch and req, which must outlive the send. Returns 0, or -EINVAL
 * when the operation does not fit the path (Execute below a resource, Delete of a
 * resource, Create below an object, Write-Update not on an instance, ...) or the
 * attributes are malformed.
 */
int lwm2m_dm_build(const struct lwm2m_dm_request *req, struct coap_msg *msg,
		   char scratch[LWM2M_DM_SCRATCH]);

/* "read", "discover", ... */
const char *lwm2m_op_name(enum lwm2m_op op);

#endif
