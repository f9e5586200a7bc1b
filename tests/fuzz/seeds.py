#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/<target>/ (docs/fuzzing.md).

The seeds are small inputs written here from the RFC and OMA examples and from the byte
vectors of our own unit tests, one file each, named for what it is. They are committed, so
this script is only needed to change them: run it from anywhere, then commit what changed.
It uses nothing but Python's standard library, and each target's input layout is the one
its source file describes.
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
ROOT = os.path.dirname(os.path.dirname(HERE))


def write(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# --- CoAP (RFC 7252 §3) ---------------------------------------------------------------

CON, NON, ACK, RST = 0, 1, 2, 3
GET, POST, PUT, DELETE = 1, 2, 3, 4


def code(cls, detail):
    return cls << 5 | detail


def coap(mtype, mcode, mid, token=b"", options=(), payload=b""):
    out = bytes([0x40 | mtype << 4 | len(token), mcode, mid >> 8, mid & 0xFF]) + token
    last = 0
    for number, value in sorted(options, key=lambda o: o[0]):
        if isinstance(value, str):
            value = value.encode()
        elif isinstance(value, int):
            value = value.to_bytes((value.bit_length() + 7) // 8, "big")
        delta, length = number - last, len(value)
        ext = b""

        def nib(v):
            nonlocal ext
            if v < 13:
                return v
            if v < 269:
                ext += bytes([v - 13])
                return 13
            ext += (v - 269).to_bytes(2, "big")
            return 14

        dn = nib(delta)
        ln = nib(length)
        out += bytes([dn << 4 | ln]) + ext + value
        last = number
    if payload:
        out += b"\xff" + (payload.encode() if isinstance(payload, str) else payload)
    return out


URI_PATH, CONTENT_FORMAT, URI_QUERY, ACCEPT, OBSERVE = 11, 12, 15, 17, 6
BLOCK1, BLOCK2, SIZE1, LOCATION_PATH = 27, 23, 60, 8


def register(ep, links, mid=0x1001, token=b"\x01\x02", extra=()):
    opts = [(URI_PATH, "rd"), (CONTENT_FORMAT, 40)]
    opts += [(URI_QUERY, q) for q in ("ep=" + ep, "lt=300", "lwm2m=1.1", "b=U")]
    opts += list(extra)
    return coap(CON, POST, mid, token, opts, links)


def coap_seeds():
    t = "fuzz_coap_msg"
    # RFC 7252 Appendix A, figure 2 shape: CON GET /temperature, no token.
    write(t, "rfc7252-get-temperature", coap(CON, GET, 0x7D34, b"", [(URI_PATH, "temperature")]))
    # Figure 3 shape: the piggybacked ACK 2.05 with a token and a payload.
    write(t, "rfc7252-ack-content", coap(ACK, code(2, 5), 0x7D34, b"\x71", [], "22.3 C"))
    write(t, "empty-ping", coap(CON, 0, 0x1234))
    write(t, "empty-rst", coap(RST, 0, 0x1234))
    write(t, "register", register("861234567890123", "</1/0>,</3/0>,</19/0>"))
    write(t, "deregister", coap(CON, DELETE, 0x22, b"\x09" * 8, [(URI_PATH, "rd"), (URI_PATH, "5a3f")]))
    write(t, "observe-notify",
          coap(NON, code(2, 5), 0x33, b"\xaa\xbb", [(OBSERVE, 12), (CONTENT_FORMAT, 11542)],
               b"\xc1\x09\x64"))
    write(t, "block1-put",
          coap(CON, PUT, 0x44, b"\x01", [(URI_PATH, "19"), (URI_PATH, "1"), (URI_PATH, "0"),
                                        (BLOCK1, 0x0E), (SIZE1, 2048)], b"\x00" * 64))
    write(t, "block2-read", coap(ACK, code(2, 5), 0x45, b"\x02", [(BLOCK2, 0x1A)], b"x" * 64))
    # Extended deltas and lengths: 13 and 269 forms (our unit test's vectors).
    write(t, "extended-forms", coap(CON, GET, 0x46, b"", [(13, b"a" * 13), (13 + 269, b"b" * 269)]))
    write(t, "proxy-uri", coap(CON, GET, 0x47, b"", [(35, "coap://example.com/x"), (39, "coap")]))


# --- the uplink sequence: [peer][time step][length 16][datagram] ----------------------

def uplink_record(peer, step, dgram):
    return bytes([peer, step]) + struct.pack(">H", len(dgram)) + dgram


def uplink_seeds():
    t = "fuzz_uplink"
    reg = register("dev1", "</1/0>,</3/0>")
    write(t, "register", uplink_record(0, 0, reg))
    write(t, "register-twice-then-expire",
          uplink_record(0, 0, reg) + uplink_record(0, 1, reg) + uplink_record(1, 255, reg))
    write(t, "register-forbidden", uplink_record(0, 0, register("xdev", "</1/0>")))
    write(t, "register-alt-path",
          uplink_record(2, 0, register("dev2", '</lwm2m>;rt="oma.lwm2m";ct=11543,</lwm2m/1/0>')))
    links = ",".join("</%d/0>" % i for i in range(1, 120)).encode()
    first, second = links[:64], links[64:]
    b1 = [(BLOCK1, 0x0A)]  # num 0, more, szx 2 (64 bytes)
    b2 = [(BLOCK1, 0x12)]  # num 1, no more
    write(t, "register-block1",
          uplink_record(0, 0, register("dev3", first, 0x2001, b"\x05", b1)) +
          uplink_record(0, 0, register("dev3", second, 0x2002, b"\x05", b2)))
    write(t, "deregister-unknown",
          uplink_record(0, 0, coap(CON, DELETE, 0x3001, b"\x07", [(URI_PATH, "rd"), (URI_PATH, "x")])))
    write(t, "update-unknown",
          uplink_record(0, 0, coap(CON, POST, 0x3002, b"\x07", [(URI_PATH, "rd"), (URI_PATH, "abc"),
                                                                (URI_QUERY, "lt=60")])))
    # Peer byte bit 3: the Uri-Path after "rd" becomes the last location the server gave.
    update = coap(CON, POST, 0x5002, b"\x08", [(URI_PATH, "rd"), (URI_PATH, "x"), (URI_QUERY, "lt=60"),
                                                (URI_QUERY, "b=UQ"), (CONTENT_FORMAT, 40)],
                  "</1/0>,</3/0>,</5/0>")
    bare_update = coap(CON, POST, 0x5003, b"\x09", [(URI_PATH, "rd"), (URI_PATH, "x")])
    dereg = coap(CON, DELETE, 0x5004, b"\x0a", [(URI_PATH, "rd"), (URI_PATH, "x")])
    write(t, "register-update-deregister",
          uplink_record(0, 0, reg) + uplink_record(0x08, 10, update) +
          uplink_record(0x08, 10, bare_update) + uplink_record(0x08, 1, dereg) +
          uplink_record(0x08, 1, dereg))
    write(t, "update-from-another-peer",
          uplink_record(0, 0, reg) + uplink_record(0x0D, 5, update) + uplink_record(0, 200, reg))
    write(t, "ping-and-duplicate",
          uplink_record(3, 0, coap(CON, 0, 0x4001)) + uplink_record(3, 0, reg) + uplink_record(3, 0, reg))


# --- CoRE link format -----------------------------------------------------------------

def link_seeds():
    t = "fuzz_link"
    write(t, "objects", "</1/0>,</3/0>,</19/0>")
    write(t, "root-with-ct-list", '</>;rt="oma.lwm2m";ct="60 110 112 11542",</1/0>,</3/0>;ver=1.1,</5>')
    write(t, "alt-path", '</lwm2m>;rt="oma.lwm2m";ct=11543,</lwm2m/1/0>,</lwm2m/3/0>')
    write(t, "spaces", "</1/0>, </3/0>;ver=1.1; obs, </3303/0>")
    write(t, "quoted-escape", '</3/0>;title="a \\"b\\" c";if=x')
    write(t, "path-forms", "/3/0/1")
    write(t, "attrs-16", "</3/0>" + "".join(";a%d=%d" % (i, i) for i in range(16)))


# --- Accept-Encoding ----------------------------------------------------------------

def accept_encoding_seeds():
    t = "fuzz_accept_encoding"
    write(t, "chromium", "gzip, deflate, br, zstd")
    write(t, "refused", "gzip;q=0, br")
    write(t, "weights", "br;q=1.0, GZIP ; q=0.500, *;q=0.000")
    write(t, "x-gzip", "x-gzip;level=9;q=0.")


# --- content formats: [mode][type][ids: 4 x 16 bits][payload] -------------------------

def content_input(depth, typing, ids, payload, type_=0):
    """typing: 0 the built-in models, 1 untyped, 2 every resource of type_."""
    ids = list(ids) + [0] * (4 - len(ids))
    head = bytes([depth + 5 * typing, type_]) + b"".join(struct.pack(">H", i) for i in ids)
    return head + (payload.encode() if isinstance(payload, str) else payload)


# The Core specification's Read of /3/0 in TLV (our TLV unit test's vector).
DEVICE_TLV = (b"\xC8\x00\x14Open Mobile Alliance" b"\xC8\x01\x16Lightweight M2M Client"
              b"\xC8\x02\x09345000123" b"\xC3\x031.0"
              b"\x86\x06\x41\x00\x01\x41\x01\x05" b"\x88\x07\x08\x42\x00\x0E\xD8\x42\x01\x13\x88"
              b"\x87\x08\x41\x00\x7D\x42\x01\x03\x84" b"\xC1\x09\x64" b"\xC1\x0A\x0F"
              b"\x83\x0B\x41\x00\x00" b"\xC4\x0D\x51\x82\x42\x8F" b"\xC6\x0E+02:00" b"\xC1\x10U")


def cbor_head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | info]) + n.to_bytes(size, "big")
    raise ValueError(n)


def cbor(v):
    if v is True:
        return b"\xf5"
    if v is False:
        return b"\xf4"
    if isinstance(v, int):
        return cbor_head(0, v) if v >= 0 else cbor_head(1, -1 - v)
    if isinstance(v, float):
        return b"\xfb" + struct.pack(">d", v)
    if isinstance(v, bytes):
        return cbor_head(2, len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return cbor_head(3, len(b)) + b
    if isinstance(v, list):
        return cbor_head(4, len(v)) + b"".join(cbor(x) for x in v)
    if isinstance(v, dict):
        return cbor_head(5, len(v)) + b"".join(cbor(k) + cbor(x) for k, x in v.items())
    raise TypeError(v)


def content_seeds():
    t = "fuzz_content_tlv"
    write(t, "spec-device-instance", content_input(2, 0, [3, 0], DEVICE_TLV))
    write(t, "spec-device-object", content_input(1, 0, [3], b"\x08\x00\x79" + DEVICE_TLV))
    write(t, "battery-resource", content_input(3, 0, [3, 0, 9], b"\xC1\x09\x64"))
    write(t, "power-sources-multiple", content_input(3, 0, [3, 0, 6], b"\x86\x06\x41\x00\x01\x41\x01\x05"))
    write(t, "resource-instance", content_input(4, 0, [3, 0, 6, 1], b"\x41\x01\x05"))
    write(t, "location-floats", content_input(2, 0, [6, 0],
                                              b"\xC4\x00\x42\x28\x00\x00\xC8\x01\x08" +
                                              struct.pack(">d", -12.5)))
    write(t, "objlnk-16bit-id", content_input(2, 2, [9999, 0], b"\xE4\x01\x00\x00\x03\x00\x01", 8))
    write(t, "untyped-opaque", content_input(2, 1, [4242, 0], b"\xC3\x05abc\xC0\x06"))
    write(t, "bool-resource", content_input(2, 0, [1, 0], b"\xC1\x06\x01\xC1\x01\x00"))

    t = "fuzz_content_text"
    write(t, "string", content_input(3, 0, [3, 0, 0], "Open Mobile Alliance"))
    write(t, "integer", content_input(3, 0, [3, 0, 9], "100"))
    write(t, "time", content_input(3, 0, [3, 0, 13], "1367491215"))
    write(t, "float", content_input(3, 0, [6, 0, 0], "-27.5"))
    write(t, "boolean", content_input(3, 0, [1, 0, 6], "1"))
    write(t, "objlnk", content_input(3, 2, [9, 0, 1], "3:0", 8))
    write(t, "opaque-base64", content_input(3, 2, [19, 0, 0, 0], "AAECAw==", 6))
    write(t, "unsigned", content_input(4, 2, [9, 0, 1, 0], "18446744073709551615", 3))

    t = "fuzz_content_opaque"
    write(t, "firmware-chunk", content_input(3, 0, [5, 0, 0], bytes(range(64))))
    write(t, "binary-app-data", content_input(4, 0, [19, 0, 0, 0], b"\x00\x57\x00\x01\x86\xA0"))

    t = "fuzz_content_cbor"
    write(t, "uint", content_input(3, 0, [3, 0, 9], cbor(100)))
    write(t, "negint", content_input(3, 1, [9999, 0, 1], cbor(-500)))
    write(t, "float8", content_input(3, 0, [6, 0, 0], cbor(-27.5)))
    write(t, "float4", content_input(3, 1, [9999, 0, 1], b"\xfa\x41\xb2\x00\x00"))
    write(t, "float2", content_input(3, 1, [9999, 0, 1], b"\xf9\x3c\x00"))
    write(t, "bool", content_input(3, 0, [1, 0, 6], cbor(True)))
    write(t, "text", content_input(3, 0, [3, 0, 0], cbor("Open Mobile Alliance")))
    write(t, "bytes", content_input(4, 0, [19, 0, 0, 0], cbor(b"\x00\x57\x01")))
    write(t, "time-tag1", content_input(3, 0, [3, 0, 13], b"\xc1" + cbor(1367491215)))
    write(t, "objlnk", content_input(3, 2, [9, 0, 1], cbor("3:0"), 8))

    senml = [{"bn": "/3/0/", "n": "0", "vs": "Open Mobile Alliance"},
             {"n": "9", "v": 100}, {"n": "6/0", "v": 1}, {"n": "6/1", "v": 5},
             {"n": "13", "v": 1367491215}, {"n": "14", "vs": "+02:00"}]
    t = "fuzz_content_senml_json"
    write(t, "device-instance", content_input(2, 0, [3, 0], compact(senml)))
    write(t, "composite-root", content_input(0, 0, [], compact(
        [{"bn": "/3303/0/5700", "bt": 25462634, "v": 22.4, "t": -5},
         {"n": "/3303/0/5700", "v": 22.9, "t": -30}, {"bn": "/1/0/", "n": "1", "v": 300}])))
    write(t, "every-value-kind", content_input(2, 1, [9999, 0], compact(
        [{"bn": "/9999/0/", "n": "0", "v": 1.5}, {"n": "1", "vs": "x"}, {"n": "2", "vb": False},
         {"n": "3", "vd": "AAEC"}, {"n": "4", "vlo": "3:0"}, {"n": "5", "v": -7}])))
    write(t, "base-name-forms", content_input(2, 0, [3, 0], compact(
        [{"bn": "/3/0", "n": "/9", "v": 5}, {"bn": "/3/0/", "n": "10", "v": 15}])))

    t = "fuzz_content_oma_json"
    write(t, "lwm2m-1.0-example", content_input(2, 0, [3, 0], compact(
        {"bn": "/3/0/", "bt": 1000, "e": [
            {"n": "0", "sv": "Open Mobile Alliance"}, {"n": "6/0", "v": 1}, {"n": "13", "v": 1367491215},
            {"n": "x", "bv": True}, {"n": "y", "ov": "3:0"}, {"n": "z", "t": -5, "v": 2}]})))
    write(t, "device-instance", content_input(2, 0, [3, 0], compact(
        {"bn": "/3/0/", "e": [{"n": "0", "sv": "Open Mobile Alliance"}, {"n": "9", "v": 100},
                              {"n": "16", "sv": "U"}]})))
    write(t, "opaque-base64", content_input(3, 0, [19, 0, 0], compact(
        {"bn": "/19/0/0", "e": [{"n": "/0", "sv": "AFcAAYag"}]})))
    write(t, "float-and-bool", content_input(1, 0, [1], compact(
        {"bn": "/1/", "e": [{"n": "0/6", "bv": True}, {"n": "0/1", "v": 300}]})))

    t = "fuzz_content_senml_cbor"
    # RFC 8428 §6 labels: bn -2, bt -3, n 0, v 2, vs 3, vb 4, vd 8, t 6; "vlo" as text.
    write(t, "device-instance", content_input(2, 0, [3, 0], cbor(
        [{-2: "/3/0/", 0: "0", 3: "Open Mobile Alliance"}, {0: "9", 2: 100}, {0: "6/0", 2: 1},
         {0: "13", 2: 1367491215}])))
    write(t, "every-value-kind", content_input(2, 1, [9999, 0], cbor(
        [{-2: "/9999/0/", 0: "0", 2: 1.5}, {0: "1", 3: "x"}, {0: "2", 4: False},
         {0: "3", 8: b"\x00\x01"}, {0: "4", "vlo": "3:0"}, {0: "5", 2: -7, 6: -5, -3: 1000}])))
    write(t, "composite-root", content_input(0, 0, [], cbor(
        [{-2: "/3303/0/5700", -3: 25462634, 2: 22.4}, {-2: "/1/0/", 0: "1", 2: 300}])))


# --- DDF XML --------------------------------------------------------------------------

def ddf(obj_id, name, items, multiple="Multiple"):
    res = "".join(
        "<Item ID=\"%d\"><Name>%s</Name><Operations>%s</Operations>"
        "<MultipleInstances>%s</MultipleInstances><Mandatory>%s</Mandatory>"
        "<Type>%s</Type><RangeEnumeration></RangeEnumeration><Units></Units>"
        "<Description>%s</Description></Item>\n" % i for i in items)
    return ('<?xml version="1.0" encoding="utf-8"?>\n<LWM2M><Object ObjectType="MODefinition">'
            "<Name>%s</Name><Description1>x</Description1><ObjectID>%d</ObjectID>"
            "<ObjectURN>urn:oma:lwm2m:x:%d</ObjectURN><LWM2MVersion>1.1</LWM2MVersion>"
            "<ObjectVersion>1.0</ObjectVersion><MultipleInstances>%s</MultipleInstances>"
            "<Mandatory>Optional</Mandatory><Resources>\n%s</Resources></Object></LWM2M>\n"
            % (name, obj_id, obj_id, multiple, res))


def ddf_seeds():
    t = "fuzz_ddf"
    with open(os.path.join(ROOT, "tests/data/models/3303.xml"), "rb") as f:
        write(t, "temperature-3303", f.read())
    types = ["String", "Integer", "Unsigned Integer", "Float", "Boolean", "Opaque", "Time",
             "Objlnk", "Corelnk", ""]
    items = [(i, "Res %d" % i, "RW" if i % 3 else "E", "Multiple" if i % 2 else "Single",
              "Mandatory", t_, "Resource of type %s" % (t_ or "none")) for i, t_ in enumerate(types)]
    write(t, "every-type", ddf(10241, "Every type", items))
    write(t, "single-instance", ddf(3, "Device override", [(0, "Manufacturer", "R", "Single",
                                                             "Optional", "String", "")], "Single"))
    write(t, "entities-and-cdata",
          '<?xml version="1.0"?>\n<!DOCTYPE LWM2M [<!ENTITY n "Name &amp; more">]>\n'
          "<LWM2M><Object><Name>&n;</Name><ObjectID>  32769 </ObjectID><Resources>"
          '<Item ID="65534"><Name><![CDATA[<raw>]]></Name><Type>Float</Type></Item>'
          "</Resources></Object></LWM2M>")


# --- the API: bodies, query strings, base64 --------------------------------------------

METER_MODEL = [{
    "service_id": "WaterMeter", "service_type": "WaterMeter",
    "properties": [
        {"property_name": "battery", "data_type": "int", "min": 0, "max": 100, "method": "R"},
        {"property_name": "flow", "data_type": "long", "min": 0, "method": "R"},
        {"property_name": "interval", "data_type": "int", "min": 1, "max": 65535, "method": "RW"}],
    "commands": [{"command_name": "SET_INTERVAL",
                  "paras": [{"para_name": "interval", "data_type": "int", "required": True,
                             "min": 1, "max": 65535}],
                  "responses": [{"response_name": "ACK",
                                 "paras": [{"para_name": "result", "data_type": "int"}]}]}]}]

EVERY_MODEL = [{
    "service_id": "Every", "option": "Optional", "description": "one of each",
    "properties": [
        {"property_name": "i", "data_type": "int", "min": "-5", "max": "5", "method": "RW",
         "default_value": 1},
        {"property_name": "d", "data_type": "decimal", "step": 0.5, "unit": "Cel"},
        {"property_name": "s", "data_type": "string", "max_length": 8, "default_value": "abc"},
        {"property_name": "t", "data_type": "DateTime", "default_value": "20261125T101500Z"},
        {"property_name": "j", "data_type": "jsonObject", "required": False},
        {"property_name": "e", "data_type": "enum", "enum_list": ["on", "off"], "default_value": "on"},
        {"property_name": "b", "data_type": "boolean", "method": "RWE"},
        {"property_name": "sl", "data_type": "string list", "enum_list": None}],
    "commands": [{"command_name": "ALL", "paras": [
        {"para_name": "i", "data_type": "int", "required": True},
        {"para_name": "sl", "data_type": "string list"}]}]}]

METER_LAYOUT = {
    "message_id": {"offset": 0, "type": "uint8"}, "messages": [
        {"id": 0, "kind": "report", "service_id": "WaterMeter", "fields": [
            {"name": "battery", "offset": 1, "type": "uint8"},
            {"name": "flow", "offset": 2, "type": "uint32"}]},
        {"id": 1, "kind": "command", "service_id": "WaterMeter", "command": "SET_INTERVAL",
         "fields": [{"name": "mid", "offset": 1, "type": "uint16", "role": "mid"},
                    {"name": "interval", "offset": 3, "type": "uint16"}]},
        {"id": 2, "kind": "response", "service_id": "WaterMeter", "command": "SET_INTERVAL",
         "fields": [{"name": "mid", "offset": 1, "type": "uint16", "role": "mid"},
                    {"name": "errcode", "offset": 3, "type": "uint8", "role": "errcode"},
                    {"name": "result", "offset": 4, "type": "uint8"}]}]}

DEVICE = {"node_id": "861234567890123", "product_id": "watermeter",
          "auth_info": {"secure_access": False}}
DTLS_DEVICE = {"node_id": "861234567890124", "device_id": "d2", "product_id": "watermeter",
               "device_name": "Meter 2", "description": "on the roof", "read_format": "tlv",
               "auth_info": {"auth_type": "SECRET", "secure_access": True,
                             "secret": "7365637265746b657931", "timeout": 0}}
PRODUCT = {"product_id": "watermeter", "name": "Water meter", "protocol_type": "LwM2M",
           "data_format": "binary", "service_capabilities": METER_MODEL}
COMMAND = {"service_id": "WaterMeter", "command_name": "SET_INTERVAL", "paras": {"interval": 600},
           "send_strategy": "immediately", "expire_time": 3600}
SHADOW = {"shadow": [{"service_id": "WaterMeter", "desired": {"interval": 900}, "version": 0}]}
RULE = {"url": "https://push.example.com/iot", "events": ["device.property/report", "device.status/update"]}


# A campaign create body with every setting (docs/firmware.md "Campaigns").
FW_CAMPAIGN = {"name": "spring", "package_id": "pkg-meter", "delivery": "auto",
               "targets": {"product_id": "meter", "from_versions": ["1.0", "1.1"]},
               "max_concurrent": 2, "rate_per_minute": 60, "retries": 3, "retry_backoff_s": 5,
               "failure_threshold_percent": 50, "failure_min_devices": 1,
               "download_timeout_s": 10, "update_timeout_s": 10}
# ...and as the campaign's row keeps it: every field, defaults filled in.
FW_SETTINGS = FW_CAMPAIGN | {"targets": {"product_id": "meter", "from_versions": ["1.0"]},
                             "delivery": "push"}


def api_seeds():
    t = "fuzz_api_json"
    for name, body in (("device", DEVICE), ("dtls-device", DTLS_DEVICE), ("product", PRODUCT),
                       ("command", COMMAND), ("write-values", {
                           "values": [{"path": "/3/0/14", "value": "+02:00"},
                                      {"path": "/1/0/1", "value": 300, "type": "integer"}],
                           "string": "x", "integer": -5, "unsigned": 7, "float": 1.5,
                           "boolean": True, "opaque": "AAEC", "time": 1367491215,
                           "objlnk": "3:0", "corelnk": "</3/0>"})):
        write(t, "body-" + name, b"\x00" + compact(body).encode())
    for name, q in (("paging", "limit=10&offset=0"), ("dm", "format=tlv&timeout=10&wait=1"),
                    ("filters", "product_id=watermeter&status=ONLINE&device_id=a_b-c"),
                    ("numbers", "format=11542&limit=50&offset=2147483647"),
                    ("path", "path=/3/0/1&op=observe")):
        write(t, "query-" + name, b"\x01" + q.encode())
    write(t, "base64", b"\x02" + b"AFcAAYag")
    write(t, "base64-padded", b"\x02" + b"AAE=")

    t = "fuzz_product_model"
    write(t, "meter", compact({"service_capabilities": METER_MODEL,
                               "data": {"battery": 87, "flow": 100000},
                               "paras": {"interval": 600},
                               "resource_mappings": [{"path": "3303/0/5700", "service_id": "WaterMeter",
                                                      "property_name": "battery"}],
                               "names": ["battery", "SET_INTERVAL", "x"]}))
    write(t, "every-type", compact({"service_capabilities": EVERY_MODEL,
                                    "data": {"i": 3, "d": 1.5, "s": "ab", "t": "20261125T101500Z",
                                             "j": {"a": 1}, "e": "off", "b": True, "sl": ["x"]},
                                    "paras": {"i": 1, "sl": ["a", "b"]},
                                    "resource_mappings": [{"path": "/1/0/1", "service_id": "Every",
                                                           "property_name": "i"}]}))
    write(t, "bare-array", compact(METER_MODEL))

    t = "fuzz_api_routes"
    # [route][body]; the route byte's top bit picks the second device and product.
    routes = (
        (0, "device-create", DEVICE | {"product_id": "meter", "node_id": "n2"}),
        (0, "device-create-dtls", DTLS_DEVICE | {"product_id": "mapped"}),
        (1, "device-update", {"device_name": "renamed", "auth_info": {"secure_access": True, "timeout": 60},
                              "read_format": "senml-json"}),
        (2, "product-create", PRODUCT | {"product_id": "p3"}),
        (2, "product-create-every", {"product_id": "p4", "name": "x", "service_capabilities": EVERY_MODEL,
                                     "resource_mappings": [{"path": "3/0/9", "service_id": "Every",
                                                            "property_name": "i"}]}),
        (3, "product-update", {"description": "d", "service_capabilities": METER_MODEL}),
        (4, "command", COMMAND),
        (4 | 0x80, "command-every", {"service_id": "Every", "command_name": "ALL",
                                     "paras": {"i": 1, "e": "x", "sl": ["a"]}}),
        (5, "command-delay", COMMAND | {"send_strategy": "delay"}),
        (6, "shadow", SHADOW),
        (6 | 0x80, "shadow-every", {"shadow": [{"service_id": "Every", "desired": {
            "i": 2, "l": 5, "d": 1.5, "s": "xyz", "t": "20261125T101500Z", "e": "off", "b": True}}]}),
        (7, "rule", RULE),
        (8, "codec-put", {"kind": "declarative", "source": compact(METER_LAYOUT)}),
        (9, "codec-test-decode", {"payload_hex": "0057000186A0"}),
        (9, "codec-test-encode", {"cloud_req": {"msgType": "cloudReq", "serviceId": "WaterMeter",
                                                "cmd": "SET_INTERVAL", "paras": {"interval": 600},
                                                "mid": 7}}),
    )
    for route, name, body in routes:
        write(t, name, bytes([route]) + compact(body).encode())
    # Route 10: firmware campaign create (docs/firmware.md "Campaigns"); the harness's
    # packages are pkg-meter (product meter, device meter1) and pkg-every (mapped, every1).
    # Top bit: the created campaign is also paused and resumed.
    for route, name, body in (
            (10, "campaign-product", {"name": "to 2.0", "package_id": "pkg-meter",
                                      "targets": {"product_id": "meter"}}),
            (10 | 0x80, "campaign-every-setting", FW_CAMPAIGN),
            (10, "campaign-devices-push", {"package_id": "pkg-meter", "delivery": "push",
                                           "targets": {"device_ids": ["meter1"],
                                                       "from_versions": ["1.0"]}}),
            (10 | 0x80, "campaign-unreachable", {"package_id": "pkg-every", "delivery": "pull",
                                                 "targets": {"device_ids": ["every1"]}}),
            (10, "campaign-wrong-product", {"package_id": "pkg-meter",
                                            "targets": {"device_ids": ["every1", "meter1"]}}),
            (10, "campaign-twice", {"package_id": "pkg-meter",
                                    "targets": {"device_ids": ["meter1", "meter1"]}}),
            (10, "campaign-no-package", {"package_id": "nope", "targets": {"product_id": "meter"}})):
        write(t, name, bytes([route]) + compact(body).encode())

    # Route 11: bulk device create (docs/api.md "Create devices in bulk"): created items,
    # item errors (a node ID twice, an unknown product, a bad field), whole-body refusals.
    for name, body in (
            ("batch", {"devices": [DEVICE | {"product_id": "meter", "node_id": "b1"},
                                   DTLS_DEVICE | {"product_id": "mapped", "node_id": "b2"}]}),
            ("batch-item-errors", {"devices": [
                {"product_id": "meter", "node_id": "b3"},
                {"product_id": "meter", "node_id": "b3"},
                {"product_id": "nope", "node_id": "b4"},
                {"product_id": "meter", "node_id": "b5", "auth_info": {"secret": "xyz"}},
                {"product_id": "meter", "node_id": "meter1"}]}),
            ("batch-not-array", {"devices": {"node_id": "b6"}}),
            ("batch-not-object", {"devices": [1, "b7"]})):
        write(t, name, bytes([11]) + compact(body).encode())

    t = "fuzz_fw_campaign"
    # The settings text a campaign's row keeps (fw_campaign_settings_json), and near misses.
    write(t, "settings-product", compact(FW_SETTINGS))
    write(t, "settings-devices", compact(FW_SETTINGS | {"targets": {"device_count": 10000,
                                                                    "from_versions": []}}))
    write(t, "settings-max", compact(FW_SETTINGS | {
        "name": "n" * 64, "delivery": "pull", "max_concurrent": 4294967295,
        "targets": {"product_id": "p" * 64, "from_versions": ["v%d" % i for i in range(16)]}}))
    write(t, "settings-too-many-versions", compact(FW_SETTINGS | {
        "targets": {"product_id": "meter", "from_versions": ["v"] * 17}}))
    write(t, "settings-negative", compact(FW_SETTINGS | {"retries": -1}))
    write(t, "settings-not-object", "[1,2]")

    t = "fuzz_codec_js"
    write(t, "device-req", b"\x00" + compact({"msgType": "deviceReq", "data": [
        {"serviceId": "WaterMeter", "serviceData": {"battery": 87}, "eventTime": "20261125T101500Z"}]}).encode())
    write(t, "device-rsp", b"\x00" + compact({"msgType": "deviceRsp", "mid": 7, "errcode": 0,
                                              "body": {"result": 1}}).encode())
    write(t, "device-req-object", b"\x00O" + compact({"msgType": "deviceReq", "data": [
        {"serviceId": "S", "serviceData": {}}]}).encode())
    write(t, "encode-bytes", b"\x01" + compact({"out": [1, 0, 7, 2, 88, 255, -128, -1]}).encode())
    write(t, "encode-wrong", b"\x01" + compact({"out": [1.5, "x", None, 256]}).encode())

    t = "fuzz_codec_decl"
    # Mode even: a payload for the target's fixed layout; odd: a layout document.
    write(t, "payload-every-type", b"\x00" + bytes([0, 0xFF, 0x12, 0x34, 1, 2, 3, 4]) +
          struct.pack("<f", 1.5) + struct.pack("<d", -2.25) + b"hello" + b"\x01\x02\x03" +
          b"\x03abc")
    write(t, "payload-varstring-rest", b"\x00\x01tail text")
    write(t, "payload-response", b"\x00\x03\x00\x07\x00\x00\x00\x00\x01")
    write(t, "layout-meter", b"\x01" + compact(METER_LAYOUT).encode())
    write(t, "layout-little", b"\x01" + compact({
        "byte_order": "little", "message_id": {"offset": 0, "type": "uint8"}, "messages": [
            {"id": 0, "kind": "report", "service_id": "S", "fields": [
                {"name": "a", "offset": 1, "type": "int16"},
                {"name": "b", "offset": 3, "type": "float", "byte_order": "big"},
                {"name": "s", "offset": 7, "type": "varstring", "length": "rest"}]},
            {"id": 1, "kind": "command", "service_id": "S", "command": "C", "fields": [
                {"name": "mid", "offset": 1, "type": "uint16", "role": "mid"},
                {"name": "a", "offset": 3, "type": "int8"},
                {"name": "s", "offset": 4, "type": "string", "length": 3}]}]}).encode())


# --- DTLS: operation sequences (fuzz_dtls.c) ------------------------------------------

RAW, SHAKE, BENT, WRITE, MUTATE, SEND, TICK, CLOSE, RESTART, RESTORE, MOVE = range(11)


def dtls_seeds():
    t = "fuzz_dtls"
    hello = bytes([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 40, 1]) + bytes(39)
    ops = {
        "handshake-ccm": [SHAKE, 0, 0],
        "handshake-cbc-dev2": [SHAKE, 1, 0b011],
        "handshake-then-data": [SHAKE, 0, 0, WRITE, 0, 4] + list(b"ping") +
                               [SEND, 0, 4] + list(b"pong"),
        "wrong-key-and-stranger": [SHAKE, 0, 0b110, SHAKE, 1, 0b100],
        "hibernate-wake": [SHAKE, 0, 0, WRITE, 0, 1, 65, TICK, 0, 40, WRITE, 0, 1, 66,
                           TICK, 0, 40, SEND, 0, 1, 67],
        "restart": [SHAKE, 0, 0, WRITE, 0, 2, 1, 2, RESTART, 0, WRITE, 0, 2, 3, 4],
        "resume": [SHAKE, 0, 0, CLOSE, 0, 1, SHAKE, 0, 16],
        "resume-ticketless-moved": [SHAKE, 2, 8, WRITE, 2, 1, 9, MOVE, 2, SHAKE, 2, 24],
    }
    seqs = dict(ops)
    seqs["mutated-records"] = [SHAKE, 0, 0] + sum(
        ([MUTATE, 0, 3, 1, 2, 3, 0, 5 + k, 0x40, k] for k in range(5)), [])
    seqs["bent-handshake"] = [BENT, 0, 0, 1, 0, 30, 0x80, BENT, 1, 0, 2, 0, 20, 0x01]
    seqs["two-identities-one-address"] = [SHAKE, 0, 0, SHAKE, 0, 0b010, WRITE, 0, 1, 1]
    seqs["raw-hello-strangers"] = [RAW, 0, 3, len(hello) // 4] + list(hello) + \
                                  [RAW, 0, 4, 2] + list(b"\x17\xfe\xfd\x00\x01\x00\x00\x00")
    seqs["restore-garbage"] = [RESTORE, 0, 1, 8] + list(range(16)) + [RAW, 0, 0, 4] + list(bytes(16))
    seqs["server-closes"] = [SHAKE, 1, 0, CLOSE, 1, 0, SEND, 1, 1, 5, WRITE, 1, 1, 5]
    seqs["handshake-timeout"] = [BENT, 0, 0, 2, 0, 0, 0xff, TICK, 0, 255, TICK, 0, 255]
    for name, seq in seqs.items():
        write(t, name, bytes(seq))


# --- bootstrap configurations: [mode][bytes], mode bit 0 a template, bit 1 stored text ---

BS_DEVICE = {"allow_plain": False, "bs_identity": "node-1",
             "bs_key": "00112233445566778899aabbccddeeff", "server_uri": "", "security": "psk",
             "short_server_id": 1, "lifetime": 86400, "binding": "U", "pmin": 0, "pmax": 0,
             "discover": True}
BS_TEMPLATE = {k: v for k, v in BS_DEVICE.items() if k not in ("bs_identity", "bs_key")} | {
    "master_key": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"}


def bs_config_seeds():
    t = "fuzz_bs_config"
    for mode, name, body in (
            (0, "device-api", BS_DEVICE),
            (0, "device-plain-nosec", {"allow_plain": True, "security": "nosec",
                                       "server_uri": "coap://[fd00::1]:5683"}),
            (0, "device-every-limit", BS_DEVICE | {"bs_key": "ab" * 32, "bs_identity": "n" * 64,
                                                   "short_server_id": 65534,
                                                   "lifetime": 31536000, "binding": "UQ",
                                                   "pmin": 86400, "pmax": 86400,
                                                   "server_uri": "coaps://" + "h" * 242 + ":5684"}),
            (0, "device-no-way", {"lifetime": 600}),
            (0, "device-unknown", BS_DEVICE | {"colour": 1}),
            (0, "device-master-key", BS_DEVICE | {"master_key": BS_TEMPLATE["master_key"]}),
            (0, "device-bad-uri", BS_DEVICE | {"server_uri": "coaps://[::1:5684"}),
            (0, "device-periods", BS_DEVICE | {"pmin": 60, "pmax": 10}),
            (1, "template-api", BS_TEMPLATE),
            (1, "template-short-key", BS_TEMPLATE | {"master_key": "00" * 15}),
            (1, "template-bs-key", BS_TEMPLATE | {"bs_key": BS_DEVICE["bs_key"]}),
            (2, "device-stored", BS_DEVICE),
            (3, "template-stored", BS_TEMPLATE)):
        write(t, name, bytes([mode]) + json.dumps(body, separators=(",", ":"),
                                                  sort_keys=True).encode())
    write(t, "stored-duplicate", b"\x02" + b'{"allow_plain":true,"allow_plain":false}')
    write(t, "stored-nul", b"\x02" + b'{"allow_plain":true,"bs_identity":"a\\u0000b"}')
    write(t, "not-object", b"\x00[1]")


# --- dictionaries: tests/fuzz/<target>.dict, the words libFuzzer splices in -------------

JSON_WORDS = ['{', '}', '[', ']', ':', ',', '"', '\\', '\\u0000', '\\ud800', 'true', 'false',
              'null', '-0', '1e400', '0.5', '9223372036854775807', '-9223372036854775808',
              '18446744073709551615']


def dict_line(word):
    esc = "".join(c if 0x20 <= ord(c) < 0x7f and c not in '"\\' else "\\x%02x" % ord(c)
                  for c in word)
    return '"%s"\n' % esc


def write_dict(target, words):
    with open(os.path.join(HERE, target + ".dict"), "w") as f:
        f.write("# libFuzzer dictionary for %s, written by seeds.py.\n" % target)
        for w in dict.fromkeys(words):
            f.write(dict_line(w))


def dicts():
    senml = ['"bn"', '"bt"', '"n"', '"v"', '"vs"', '"vb"', '"vd"', '"vlo"', '"t"', '"/3/0/"',
             '"/3/0/1"', '"/"', '"3:0"', '"AAE="', '"-_"']
    write_dict("fuzz_content_senml_json", JSON_WORDS + senml)
    write_dict("fuzz_content_oma_json", JSON_WORDS + ['"bn"', '"bt"', '"e"', '"n"', '"v"', '"sv"',
                                                      '"bv"', '"ov"', '"t"', '"/3/0/"', '"3:0"'])
    model = ['"service_capabilities"', '"service_id"', '"service_type"', '"option"', '"Master"',
             '"Mandatory"', '"Optional"', '"description"', '"properties"', '"property_name"',
             '"data_type"', '"int"', '"long"', '"decimal"', '"string"', '"DateTime"',
             '"jsonObject"', '"enum"', '"boolean"', '"string list"', '"required"', '"min"',
             '"max"', '"step"', '"unit"', '"method"', '"RW"', '"RWE"', '"enum_list"',
             '"max_length"', '"default_value"', '"commands"', '"command_name"', '"paras"',
             '"para_name"', '"responses"', '"response_name"', '"resource_mappings"', '"path"',
             '"3303/0/5700"', '"20261125T101500Z"', '"$properties"', '"data"', '"names"']
    write_dict("fuzz_product_model", JSON_WORDS + model)
    api = ['"devices"', '"node_id"', '"product_id"', '"device_id"', '"device_name"', '"auth_info"',
           '"auth_type"', '"SECRET"', '"secret"', '"secure_access"', '"timeout"', '"read_format"',
           '"tlv"', '"senml-json"', '"senml-cbor"', '"json"', '"cbor"', '"text"', '"opaque"',
           '"link"', '"name"', '"protocol_type"', '"LwM2M"', '"data_format"', '"binary"',
           '"send_strategy"', '"immediately"', '"delay"', '"expire_time"', '"shadow"',
           '"desired"', '"version"', '"url"', '"events"', '"http://"', '"https://"',
           '"device.property/report"', '"kind"', '"declarative"', '"source"', '"payload_hex"',
           '"cloud_req"', '"values"', '"value"', '"type"', '"integer"', '"unsigned"', '"float"',
           '"time"', '"objlnk"', '"corelnk"', '"none"', "&", "=", "limit=", "offset=", "format=",
           "11542", "/3/0/1", "00"]
    write_dict("fuzz_api_json", JSON_WORDS + api + model)
    firmware = ['"package_id"', '"targets"', '"device_ids"', '"from_versions"', '"delivery"',
                '"auto"', '"pull"', '"push"', '"max_concurrent"', '"rate_per_minute"',
                '"retries"', '"retry_backoff_s"', '"failure_threshold_percent"',
                '"failure_min_devices"', '"download_timeout_s"', '"update_timeout_s"',
                '"device_count"', '"pkg-meter"', '"pkg-every"', '"meter1"', '"every1"',
                '"4294967295"', '4294967296', '100000', '604800', '86400']
    write_dict("fuzz_api_routes", JSON_WORDS + api + model + firmware + [
        '"WaterMeter"', '"SET_INTERVAL"', '"interval"', '"Every"', '"ALL"'])
    write_dict("fuzz_bs_config", JSON_WORDS + ['"%s"' % k for k in BS_DEVICE | BS_TEMPLATE] + [
        '"psk"', '"nosec"', '"U"', '"UQ"', '"coap://"', '"coaps://"', "[::1]", ":5683",
        ":5684", ":65535", '"00112233445566778899aabbccddeeff"', "65534", "65535", "31536000",
        "86400", "86401", "59"])
    write_dict("fuzz_fw_campaign", JSON_WORDS + firmware + ['"name"', '"product_id"',
                                                            '4294967295'])
    layout = ['"byte_order"', '"little"', '"big"', '"message_id"', '"offset"', '"type"',
              '"messages"', '"id"', '"kind"', '"report"', '"command"', '"response"',
              '"service_id"', '"fields"', '"name"', '"length"', '"length_field"', '"rest"',
              '"role"', '"mid"', '"errcode"', '"uint8"', '"int8"', '"uint16"', '"int16"',
              '"uint32"', '"int32"', '"uint64"', '"int64"', '"float"', '"double"', '"string"',
              '"varstring"', '"bytes"', '"bool"', '"scale"', '"paras"', '"cmd"', '"serviceId"']
    write_dict("fuzz_codec_decl", JSON_WORDS + layout)
    write_dict("fuzz_codec_js", JSON_WORDS + ['"msgType"', '"deviceReq"', '"deviceRsp"', '"data"',
                                              '"serviceId"', '"serviceData"', '"eventTime"', '"mid"',
                                              '"errcode"', '"body"', '"out"', "O"])
    write_dict("fuzz_ddf", ['<?xml version="1.0"?>', "<LWM2M>", "</LWM2M>", "<Object>",
                            '<Object ObjectType="MODefinition">', "</Object>", "<Name>",
                            "</Name>", "<ObjectID>", "</ObjectID>", "<ObjectVersion>",
                            "</ObjectVersion>", "<MultipleInstances>", "</MultipleInstances>",
                            "Multiple", "Single", "<Mandatory>", "</Mandatory>", "Optional",
                            "<Resources>", "</Resources>", '<Item ID="', '">', "</Item>",
                            "<Operations>", "</Operations>", "RWE", "<Type>", "</Type>",
                            "String", "Integer", "Unsigned Integer", "Float", "Boolean",
                            "Opaque", "Time", "Objlnk", "Corelnk", "none", "<![CDATA[", "]]>",
                            "<!DOCTYPE LWM2M [", '<!ENTITY e "', "&e;", "&amp;", "&#x10FFFF;",
                            "65534", "65535"])
    write_dict("fuzz_link", ["<", ">", ",", ";", "=", '"', "\\", "</>", "</1/0>", "</3/0/1>",
                             'rt="oma.lwm2m"', "ct=", '"60 110 112 11542"', "ver=1.1", "obs",
                             "</lwm2m>", "/65534", "/65535", "/00", " "])


# --- the firmware download server: [peer][length 16][datagram] ------------------------

FW_TOKEN = "00112233445566778899aabbccddeeff"
ETAG, SIZE2 = 4, 28


def fw_record(peer, dgram):
    return bytes([peer]) + struct.pack(">H", len(dgram)) + dgram


def fw_get(mid, block2=None, path=("fw", FW_TOKEN), extra=()):
    opts = [(URI_PATH, p) for p in path] + list(extra)
    if block2 is not None:
        opts.append((BLOCK2, block2))
    return coap(CON, GET, mid, b"\x05\x06", opts)


def fw_serve_seeds():
    t = "fuzz_fw_serve"
    # The device (peer 0: CoAP, its registered address) reads the whole package in
    # 1024-byte blocks; then in 512 (szx 5) and 16 (szx 0), in another order.
    write(t, "device-1024", b"".join(fw_record(0, fw_get(0x100 + n, n << 4 | 6)) for n in range(3)))
    write(t, "device-512-backwards",
          b"".join(fw_record(2, fw_get(0x200 + n, n << 4 | 5)) for n in (5, 3, 0, 1)))
    write(t, "device-16", b"".join(fw_record(0, fw_get(0x300 + n, n << 4 | 0)) for n in range(4)))
    write(t, "no-block2", fw_record(0, fw_get(0x400)))
    write(t, "past-the-end", fw_record(0, fw_get(0x401, 3 << 4 | 6)))
    write(t, "stranger", fw_record(1, fw_get(0x402, 6)) + fw_record(3, fw_get(0x403, 6)))
    write(t, "wrong-token", fw_record(0, fw_get(0x404, 6, ("fw", "ffff"))))
    write(t, "too-many-segments", fw_record(0, fw_get(0x405, 6, ("fw", FW_TOKEN, "x"))))
    write(t, "post", fw_record(0, coap(CON, POST, 0x406, b"", [(URI_PATH, "fw"), (URI_PATH, FW_TOKEN)])))
    # Aimed (bit 2): any path becomes fw/<token>.
    write(t, "aimed-block-long", fw_record(4, fw_get(0x407, 0x1FFFF6, ("x",))))
    write(t, "aimed-etag", fw_record(6, fw_get(0x408, 1 << 4 | 6, ("x",), [(ETAG, b"12345678")])))


def main():
    fw_serve_seeds()
    coap_seeds()
    uplink_seeds()
    link_seeds()
    accept_encoding_seeds()
    content_seeds()
    ddf_seeds()
    api_seeds()
    dtls_seeds()
    bs_config_seeds()
    dicts()


if __name__ == "__main__":
    main()
