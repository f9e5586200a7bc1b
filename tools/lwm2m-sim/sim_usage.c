/*
 * sim_usage: the simulator's usage text (main.c's options; sim_fw.c adds its own).
 */
#include "sim_usage.h"

#include <stdio.h>

#include "sim_bootstrap.h"
#include "sim_fw.h"

void sim_usage(void)
{
	fprintf(stderr,
		"usage: lwm2m-sim --server HOST:PORT --ep NAME [--lifetime S] [--binding B]\n"
		"       lwm2m-sim --bootstrap coap[s]://HOST:PORT --ep NAME [--bs-psk-identity ID\n"
		"                 --bs-psk HEX] [--bs-pct N] [--bs-timeout-s S] [--bs-fail-finish] ...\n"
		"                 [--version V] [--objects LINKS] [--updates N] [--interval MS]\n"
		"                 [--deregister] [--block-size 16..1024] [--bind HOST:PORT]\n"
		"                 [--psk-identity ID --psk HEX [--ciphersuite ccm8|cbc] [--no-ep]]\n"
		"                 [--serve SECONDS] [--tree FILE] [--change PATH=VALUE@MS]...\n"
		"                 [--notify-ms MS] [--send PATHS [--send-format cbor|json]]\n"
		"                 [--bad-content tlv,senml-json,senml-cbor,oma-json]\n"
		"                 [--sleep-after MS --wake-every MS]\n"
		"                 [--meter [--report-every MS] [--battery N]]\n"
		"                 [--fw [--fw-outcome success|N] [--fw-new-version V] [--fw-...]]\n"
		"  --objects              the Register payload (default: the tree's instances)\n"
		"  --serve                after registering, answer the server's requests from the\n"
		"                         object tree for that many seconds\n"
		"  --tree                 a SenML JSON document of more resources, e.g.\n"
		"                         [{\"bn\":\"/3303/0/\",\"n\":\"5700\",\"v\":21.5}]; typed by\n"
		"                         the object models (untyped: the SenML value's kind)\n"
		"  --change               set PATH to VALUE (as text/plain) MS after registering\n"
		"  --notify-ms            the battery level /3/0/9 drops by 1 every MS\n"
		"  --send                 after registering, Send (POST /dp) the values of these\n"
		"                         comma-separated paths, in SenML CBOR (or JSON)\n"
		"  --bad-content          Reads answered in one of these formats get a malformed\n"
		"                         payload (other formats are answered well)\n"
		"  --sleep-after          queue mode: stop listening MS after the last datagram\n"
		"  --wake-every           ... and wake with an Update every MS\n"
		"  --meter                with --serve: play a binary water meter on /19/0/0 (reports\n"
		"                         [0, battery, flow u32 BE]) and /19/1/0 (SET_INTERVAL\n"
		"                         [1, mid, interval], answered [2, mid, errcode, result];\n"
		"                         $properties [3, mid, interval] too, then reports [4, interval])\n"
		"  --report-every         the meter reports every MS (default 10000)\n"
		"  --battery              the meter's first battery level in percent (default 90)\n"
		"  --psk-identity, --psk  talk CoAP over DTLS 1.2 with this PSK (key in hex, up to\n"
		"                         32 bytes); --ep then defaults to the identity\n"
		"  --ciphersuite          offer only TLS-PSK-WITH-AES-128-CCM-8 (ccm8) or\n"
		"                         TLS-PSK-WITH-AES-128-CBC-SHA256 (cbc); default: both\n"
		"  --no-ep                register without ep= (LwM2M 1.1: the server takes the\n"
		"                         endpoint name from the PSK identity)\n");
	fputs(sim_fw_usage, stderr);
	fputs(sim_bs_usage, stderr);
}
