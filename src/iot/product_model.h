/*
 * product_model: a product's service_capabilities, as IoTDA defines them — services, each
 * with properties and commands — and the checks of values against them.
 *
 *   [{"service_id":"WaterMeter","service_type":"WaterMeter","option":"Mandatory",
 *     "description":"...",
 *     "properties":[{"property_name":"battery","data_type":"int","required":true,
 *                    "min":"0","max":"100","step":1,"unit":"%","method":"R",
 *                    "enum_list":null,"max_length":null,"default_value":null}],
 *     "commands":[{"command_name":"SET_INTERVAL",
 *                  "paras":[{"para_name":"interval","data_type":"int","min":1,...}],
 *                  "responses":[{"response_name":"ACK","paras":[...]}]}]}]
 *
 * data_type is one of int (32-bit), long (64-bit), decimal, string, DateTime
 * (yyyyMMdd'T'HHmmss'Z'), jsonObject, enum (a string of enum_list), boolean, string list
 * (an array of strings). min and max may be numbers or numeric strings (IoTDA writes
 * strings); for strings max_length bounds the length.
 *
 * Every error names the place: "service_capabilities[0].properties[2].min: ...". The
 * JSON documents are jansson's; nothing here allocates beyond the error text.
 */
#ifndef LWM2MD_IOT_PRODUCT_MODEL_H
#define LWM2MD_IOT_PRODUCT_MODEL_H

#include <stddef.h>

#include <jansson.h>

#define PRODUCT_MODEL_MAX_SERVICES 64
#define PRODUCT_MODEL_MAX_ITEMS 256 /* properties, commands or paras of one level */

/* 0 if caps is a valid service_capabilities array, else -EINVAL with err filled. */
int product_model_check(const json_t *caps, char *err, size_t errlen);

/* The service, command or property of that name, or NULL. */
const json_t *product_model_service(const json_t *caps, const char *service_id);
const json_t *product_model_command(const json_t *service, const char *command_name);
const json_t *product_model_property(const json_t *service, const char *property_name);

/* Checks value against one property or para definition (its data_type, range, length,
 * enum). where names it in the error ("battery"). 0 or -EINVAL. */
int product_model_check_value(const json_t *def, const json_t *value, const char *where,
			      char *err, size_t errlen);

/* Checks a service's reported properties ({"battery":87,...}): each must be a property
 * of the service with a valid value. 0 or -EINVAL. */
int product_model_check_properties(const json_t *service, const json_t *data, char *err,
				   size_t errlen);

/* Checks a command's paras: known names, valid values, required ones present. 0 or
 * -EINVAL. */
int product_model_check_paras(const json_t *command, const json_t *paras, char *err,
			      size_t errlen);

/* Checks a product's resource_mappings against its model:
 *   [{"path":"3303/0/5700","service_id":"Temperature","property_name":"value"}]
 * each path a resource (obj/inst/res), unique; each service and property in caps. 0 or
 * -EINVAL. */
int product_model_check_mappings(const json_t *caps, const json_t *mappings, char *err,
				 size_t errlen);

#endif
