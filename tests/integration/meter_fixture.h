/*
 * meter_fixture: the binary NB-IoT water meter of the platform tests, shared by
 * test_platform.c (the test plays the meter on a raw socket) and test_sim_meter.c
 * (lwm2m-sim --meter plays it). The meter reports [msg id 0, battery %, flow in litres
 * (uint32, big-endian)] on 19/0/0 and takes SET_INTERVAL on 19/1/0 ([1, mid u16,
 * interval u16]), answering [2, mid u16, errcode u8, result u8]. Its writable property
 * interval (desired shadow) comes as the $properties command [3, mid u16, interval u16],
 * answered like SET_INTERVAL and followed by the report [4, interval u16].
 *
 * meter_model is the product's service_capabilities; meter_layout the declarative codec
 * and meter_script the JavaScript codec of the same bytes — the two must decode and
 * encode alike, which is why the tests run every scenario with each.
 */
#ifndef LWM2MD_TEST_METER_FIXTURE_H
#define LWM2MD_TEST_METER_FIXTURE_H

/* Service WaterMeter: properties battery (int 0..100), flow (long >= 0) and interval
 * (int 1..65535, writable: no default_value, so no device starts with one desired), command
 * SET_INTERVAL (interval 1..65535) answered by ACK (result). */
static const char meter_model[] =
	"[{\"service_id\":\"WaterMeter\",\"service_type\":\"WaterMeter\","
	"  \"properties\":[{\"property_name\":\"battery\",\"data_type\":\"int\",\"min\":0,"
	"                   \"max\":100,\"method\":\"R\"},"
	"                  {\"property_name\":\"flow\",\"data_type\":\"long\",\"min\":0,"
	"                   \"method\":\"R\"},"
	"                  {\"property_name\":\"interval\",\"data_type\":\"int\",\"min\":1,"
	"                   \"max\":65535,\"method\":\"RW\"}],"
	"  \"commands\":[{\"command_name\":\"SET_INTERVAL\","
	"    \"paras\":[{\"para_name\":\"interval\",\"data_type\":\"int\",\"required\":true,"
	"               \"min\":1,\"max\":65535}],"
	"    \"responses\":[{\"response_name\":\"ACK\",\"paras\":[{\"para_name\":\"result\","
	"                    \"data_type\":\"int\"}]}]}]}]";

/* The declarative codec: message id at byte 0; report 0, command 1, response 2,
 * $properties 3, interval report 4. */
static const char meter_layout[] =
	"{\"message_id\":{\"offset\":0,\"type\":\"uint8\"},\"messages\":["
	"{\"id\":0,\"kind\":\"report\",\"service_id\":\"WaterMeter\",\"fields\":["
	" {\"name\":\"battery\",\"offset\":1,\"type\":\"uint8\"},"
	" {\"name\":\"flow\",\"offset\":2,\"type\":\"uint32\"}]},"
	"{\"id\":1,\"kind\":\"command\",\"service_id\":\"WaterMeter\",\"command\":\"SET_INTERVAL\","
	" \"fields\":[{\"name\":\"mid\",\"offset\":1,\"type\":\"uint16\",\"role\":\"mid\"},"
	"  {\"name\":\"interval\",\"offset\":3,\"type\":\"uint16\"}]},"
	"{\"id\":2,\"kind\":\"response\",\"service_id\":\"WaterMeter\",\"command\":\"SET_INTERVAL\","
	" \"fields\":[{\"name\":\"mid\",\"offset\":1,\"type\":\"uint16\",\"role\":\"mid\"},"
	"  {\"name\":\"errcode\",\"offset\":3,\"type\":\"uint8\",\"role\":\"errcode\"},"
	"  {\"name\":\"result\",\"offset\":4,\"type\":\"uint8\"}]},"
	"{\"id\":3,\"kind\":\"command\",\"service_id\":\"WaterMeter\",\"command\":\"$properties\","
	" \"fields\":[{\"name\":\"mid\",\"offset\":1,\"type\":\"uint16\",\"role\":\"mid\"},"
	"  {\"name\":\"interval\",\"offset\":3,\"type\":\"uint16\"}]},"
	"{\"id\":4,\"kind\":\"report\",\"service_id\":\"WaterMeter\",\"fields\":["
	" {\"name\":\"interval\",\"offset\":1,\"type\":\"uint16\"}]}]}";

/* The JavaScript codec of the same layout. */
static const char meter_script[] =
	"function decode(payload, topic) {\n"
	"  var id = payload[0];\n"
	"  if (id === 0)\n"
	"    return JSON.stringify({msgType: 'deviceReq', data: [{serviceId: 'WaterMeter',\n"
	"      serviceData: {battery: payload[1], flow: ((payload[2] << 24) >>> 0) +\n"
	"        (payload[3] << 16) + (payload[4] << 8) + payload[5]}}]});\n"
	"  if (id === 2)\n"
	"    return JSON.stringify({msgType: 'deviceRsp', mid: (payload[1] << 8) | payload[2],\n"
	"      errcode: payload[3], body: {result: payload[4]}});\n"
	"  if (id === 4)\n"
	"    return JSON.stringify({msgType: 'deviceReq', data: [{serviceId: 'WaterMeter',\n"
	"      serviceData: {interval: (payload[1] << 8) | payload[2]}}]});\n"
	"  throw new Error('unknown message ' + id);\n"
	"}\n"
	"function encode(json) {\n"
	"  var req = JSON.parse(json);\n"
	"  var v = req.paras.interval;\n"
	"  var id = req.cmd === '$properties' ? 3 : 1;\n"
	"  return [id, (req.mid >> 8) & 0xFF, req.mid & 0xFF, (v >> 8) & 0xFF, v & 0xFF];\n"
	"}\n";

#endif
