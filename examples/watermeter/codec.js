/*
 * The binary NB-IoT water meter (lwm2m-sim --meter plays it), as a JavaScript codec.
 * Uplink on /19/0/0, byte 0 the message id:
 *   0 report       [0, battery %, flow in litres (uint32, big-endian)]
 *   2 answer       [2, mid u16, errcode u8, result u8] to SET_INTERVAL or $properties
 *   4 report       [4, interval u16], after the meter took a desired interval
 * Downlink on /19/1/0:
 *   1 SET_INTERVAL [1, mid u16, interval u16]
 *   3 $properties  [3, mid u16, interval u16] (the desired shadow's interval)
 * layout.json is the same codec in declarative form.
 */
function decode(payload, topic) {
  var id = payload[0];
  if (id === 0)
    return JSON.stringify({msgType: 'deviceReq', data: [{serviceId: 'WaterMeter',
      serviceData: {battery: payload[1], flow: ((payload[2] << 24) >>> 0) +
        (payload[3] << 16) + (payload[4] << 8) + payload[5]}}]});
  if (id === 2)
    return JSON.stringify({msgType: 'deviceRsp', mid: (payload[1] << 8) | payload[2],
      errcode: payload[3], body: {result: payload[4]}});
  if (id === 4)
    return JSON.stringify({msgType: 'deviceReq', data: [{serviceId: 'WaterMeter',
      serviceData: {interval: (payload[1] << 8) | payload[2]}}]});
  throw new Error('unknown message ' + id);
}
function encode(json) {
  var req = JSON.parse(json);
  var v = req.paras.interval;
  var id = req.cmd === '$properties' ? 3 : 1;
  return [id, (req.mid >> 8) & 0xFF, req.mid & 0xFF, (v >> 8) & 0xFF, v & 0xFF];
}
