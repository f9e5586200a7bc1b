/*
 * model_core: the built-in object definitions — the LwM2M 1.1 core objects 0–7 and the
 * BinaryAppDataContainer (19), as the OMA LwM2M specification and the OMA object registry
 * define them (resource ids, types, multiplicity, operations).
 */
#include "model/model.h"

#include <string.h>

#define R MODEL_OP_R
#define W MODEL_OP_W
#define E MODEL_OP_E
#define STR LWM2M_TYPE_STRING
#define INT LWM2M_TYPE_INTEGER
#define UNS LWM2M_TYPE_UNSIGNED
#define FLT LWM2M_TYPE_FLOAT
#define BOOL LWM2M_TYPE_BOOLEAN
#define OPQ LWM2M_TYPE_OPAQUE
#define TIME LWM2M_TYPE_TIME
#define OBJL LWM2M_TYPE_OBJLNK
#define NONE LWM2M_TYPE_NONE
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* { id, name, type, ops, multiple, mandatory } */
static const struct model_resource security[] = {
	{ 0, "LWM2M Server URI", STR, 0, false, true },
	{ 1, "Bootstrap-Server", BOOL, 0, false, true },
	{ 2, "Security Mode", INT, 0, false, true },
	{ 3, "Public Key or Identity", OPQ, 0, false, true },
	{ 4, "Server Public Key", OPQ, 0, false, true },
	{ 5, "Secret Key", OPQ, 0, false, true },
	{ 6, "SMS Security Mode", INT, 0, false, false },
	{ 7, "SMS Binding Key Parameters", OPQ, 0, false, false },
	{ 8, "SMS Binding Secret Key(s)", OPQ, 0, false, false },
	{ 9, "LwM2M Server SMS Number", STR, 0, false, false },
	{ 10, "Short Server ID", INT, 0, false, false },
	{ 11, "Client Hold Off Time", INT, 0, false, false },
	{ 12, "Bootstrap-Server Account Timeout", INT, 0, false, false },
	{ 13, "Matching Type", UNS, 0, false, false },
	{ 14, "SNI", STR, 0, false, false },
	{ 15, "Certificate Usage", UNS, 0, false, false },
	{ 16, "DTLS/TLS Ciphersuite", UNS, 0, true, false },
	{ 17, "OSCORE Security Mode", OBJL, 0, false, false },
};

static const struct model_resource server[] = {
	{ 0, "Short Server ID", INT, R, false, true },
	{ 1, "Lifetime", INT, R | W, false, true },
	{ 2, "Default Minimum Period", INT, R | W, false, false },
	{ 3, "Default Maximum Period", INT, R | W, false, false },
	{ 4, "Disable", NONE, E, false, false },
	{ 5, "Disable Timeout", INT, R | W, false, false },
	{ 6, "Notification Storing When Disabled or Offline", BOOL, R | W, false, true },
	{ 7, "Binding", STR, R | W, false, true },
	{ 8, "Registration Update Trigger", NONE, E, false, true },
	{ 9, "Bootstrap-Request Trigger", NONE, E, false, false },
	{ 10, "APN Link", OBJL, R | W, false, false },
	{ 11, "TLS-DTLS Alert Code", UNS, R, false, false },
	{ 12, "Last Bootstrapped", TIME, R, false, false },
	{ 13, "Registration Priority Order", UNS, R | W, false, false },
	{ 14, "Initial Registration Delay Timer", UNS, R | W, false, false },
	{ 15, "Registration Failure Block", BOOL, R | W, false, false },
	{ 16, "Bootstrap on Registration Failure", BOOL, R | W, false, false },
	{ 17, "Communication Retry Count", UNS, R | W, false, false },
	{ 18, "Communication Retry Timer", UNS, R | W, false, false },
	{ 19, "Communication Sequence Delay Timer", UNS, R | W, false, false },
	{ 20, "Communication Sequence Retry Count", UNS, R | W, false, false },
	{ 21, "Trigger", BOOL, R | W, false, false },
	{ 22, "Preferred Transport", STR, R | W, false, false },
	{ 23, "Mute Send", BOOL, R | W, false, false },
};

static const struct model_resource access_control[] = {
	{ 0, "Object ID", INT, R, false, true },
	{ 1, "Object Instance ID", INT, R, false, true },
	{ 2, "ACL", INT, R | W, true, false },
	{ 3, "Access Control Owner", INT, R | W, false, true },
};

static const struct model_resource device[] = {
	{ 0, "Manufacturer", STR, R, false, false },
	{ 1, "Model Number", STR, R, false, false },
	{ 2, "Serial Number", STR, R, false, false },
	{ 3, "Firmware Version", STR, R, false, false },
	{ 4, "Reboot", NONE, E, false, true },
	{ 5, "Factory Reset", NONE, E, false, false },
	{ 6, "Available Power Sources", INT, R, true, false },
	{ 7, "Power Source Voltage", INT, R, true, false },
	{ 8, "Power Source Current", INT, R, true, false },
	{ 9, "Battery Level", INT, R, false, false },
	{ 10, "Memory Free", INT, R, false, false },
	{ 11, "Error Code", INT, R, true, true },
	{ 12, "Reset Error Code", NONE, E, false, false },
	{ 13, "Current Time", TIME, R | W, false, false },
	{ 14, "UTC Offset", STR, R | W, false, false },
	{ 15, "Timezone", STR, R | W, false, false },
	{ 16, "Supported Binding and Modes", STR, R, false, true },
	{ 17, "Device Type", STR, R, false, false },
	{ 18, "Hardware Version", STR, R, false, false },
	{ 19, "Software Version", STR, R, false, false },
	{ 20, "Battery Status", INT, R, false, false },
	{ 21, "Memory Total", INT, R, false, false },
	{ 22, "ExtDevInfo", OBJL, R, true, false },
};

static const struct model_resource connectivity_monitoring[] = {
	{ 0, "Network Bearer", INT, R, false, true },
	{ 1, "Available Network Bearer", INT, R, true, true },
	{ 2, "Radio Signal Strength", INT, R, false, true },
	{ 3, "Link Quality", INT, R, false, false },
	{ 4, "IP Addresses", STR, R, true, true },
	{ 5, "Router IP Addresses", STR, R, true, false },
	{ 6, "Link Utilization", INT, R, false, false },
	{ 7, "APN", STR, R, true, false },
	{ 8, "Cell ID", INT, R, false, false },
	{ 9, "SMNC", INT, R, false, false },
	{ 10, "SMCC", INT, R, false, false },
	{ 11, "SignalSNR", INT, R, false, false },
	{ 12, "LAC", INT, R, false, false },
};

static const struct model_resource firmware_update[] = {
	{ 0, "Package", OPQ, W, false, true },
	{ 1, "Package URI", STR, R | W, false, true },
	{ 2, "Update", NONE, E, false, true },
	{ 3, "State", INT, R, false, true },
	{ 5, "Update Result", INT, R, false, true },
	{ 6, "PkgName", STR, R, false, false },
	{ 7, "PkgVersion", STR, R, false, false },
	{ 8, "Firmware Update Protocol Support", INT, R, true, false },
	{ 9, "Firmware Update Delivery Method", INT, R, false, true },
};

static const struct model_resource location[] = {
	{ 0, "Latitude", FLT, R, false, true },
	{ 1, "Longitude", FLT, R, false, true },
	{ 2, "Altitude", FLT, R, false, false },
	{ 3, "Radius", FLT, R, false, false },
	{ 4, "Velocity", OPQ, R, false, false },
	{ 5, "Timestamp", TIME, R, false, true },
	{ 6, "Speed", FLT, R, false, false },
};

static const struct model_resource connectivity_statistics[] = {
	{ 0, "SMS Tx Counter", INT, R, false, false },
	{ 1, "SMS Rx Counter", INT, R, false, false },
	{ 2, "Tx Data", INT, R, false, false },
	{ 3, "Rx Data", INT, R, false, false },
	{ 4, "Max Message Size", INT, R, false, false },
	{ 5, "Average Message Size", INT, R, false, false },
	{ 6, "Start", NONE, E, false, true },
	{ 7, "Stop", NONE, E, false, true },
	{ 8, "Collection Period", INT, R | W, false, false },
};

static const struct model_resource binary_app_data[] = {
	{ 0, "Data", OPQ, R | W, true, true },
	{ 1, "Data Priority", INT, R | W, false, false },
	{ 2, "Data Creation Time", TIME, R | W, false, false },
	{ 3, "Data Description", STR, R | W, false, false },
	{ 4, "Data Format", STR, R | W, false, false },
	{ 5, "App ID", INT, R | W, false, false },
};

/* { id, name, version, multiple, mandatory, count, resources }, in id order. */
static const struct model_object objects[] = {
	{ 0, "LWM2M Security", "1.1", true, true, COUNT(security), security },
	{ 1, "LwM2M Server", "1.1", true, true, COUNT(server), server },
	{ 2, "LwM2M Access Control", "1.0", true, false, COUNT(access_control), access_control },
	{ 3, "Device", "1.1", false, true, COUNT(device), device },
	{ 4, "Connectivity Monitoring", "1.2", false, false, COUNT(connectivity_monitoring),
	  connectivity_monitoring },
	{ 5, "Firmware Update", "1.0", false, false, COUNT(firmware_update), firmware_update },
	{ 6, "Location", "1.0", false, false, COUNT(location), location },
	{ 7, "Connectivity Statistics", "1.0", false, false, COUNT(connectivity_statistics),
	  connectivity_statistics },
	{ 19, "BinaryAppDataContainer", "1.0", true, false, COUNT(binary_app_data),
	  binary_app_data },
};

const struct model_object *model_objects(size_t *count)
{
	*count = COUNT(objects);
	return objects;
}

const struct model_object *model_builtin(uint16_t id);

const struct model_object *model_builtin(uint16_t id)
{
	for (size_t i = 0; i < COUNT(objects); i++) {
		if (objects[i].id == id)
			return &objects[i];
	}
	return NULL;
}

const struct model_resource *model_resource(const struct model_object *obj, uint16_t id)
{
	for (size_t i = 0; obj && i < obj->resource_count; i++) {
		if (obj->resources[i].id == id)
			return &obj->resources[i];
	}
	return NULL;
}

enum lwm2m_type model_type_of(void *ctx, uint16_t obj, uint16_t res, bool *multiple)
{
	(void)ctx;
	const struct model_resource *r = model_resource(model_object(obj), res);
	if (multiple)
		*multiple = r ? r->multiple : false;
	return r ? (enum lwm2m_type)r->type : LWM2M_TYPE_NONE;
}

static const char *const type_names[] = {
	[LWM2M_TYPE_NONE] = "none",	  [LWM2M_TYPE_STRING] = "string",
	[LWM2M_TYPE_INTEGER] = "integer", [LWM2M_TYPE_UNSIGNED] = "unsigned",
	[LWM2M_TYPE_FLOAT] = "float",	  [LWM2M_TYPE_BOOLEAN] = "boolean",
	[LWM2M_TYPE_OPAQUE] = "opaque",	  [LWM2M_TYPE_TIME] = "time",
	[LWM2M_TYPE_OBJLNK] = "objlnk",	  [LWM2M_TYPE_CORELNK] = "corelnk",
};

const char *model_type_name(uint8_t type)
{
	return type < COUNT(type_names) && type_names[type] ? type_names[type] : "none";
}

int model_type_parse(const char *name)
{
	for (size_t i = 0; i < COUNT(type_names); i++) {
		if (strcmp(type_names[i], name) == 0)
			return (int)i;
	}
	return -1;
}
