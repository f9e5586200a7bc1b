/*
 * metrics: GET /metrics, the Prometheus text format of every module's counters.
 */
#include <inttypes.h>
#include <stdio.h>

#include "daemon/daemon.h"
#include "daemon/metrics_process.h"
#include "bootstrap/bs_server.h"
#include "firmware/fw_engine.h"
#include "util/log.h"

void daemon_write_metrics(void *ctx, FILE *out)
{
	struct daemon *d = ctx;
	struct coap_ep_stats sum = {0};
	for (int i = 0; i < d->listener_count; i++) {
		const struct coap_ep_stats *s = coap_ep_stats(d->listeners[i].ep);
		sum.rx_datagrams += s->rx_datagrams;
		sum.tx_datagrams += s->tx_datagrams;
		sum.rx_malformed += s->rx_malformed;
		sum.rx_duplicates += s->rx_duplicates;
		sum.requests_served += s->requests_served;
		sum.retransmissions += s->retransmissions;
		sum.tx_timeouts += s->tx_timeouts;
		sum.peers += s->peers;
		for (int c = 0; c < 256; c++)
			sum.responses_by_code[c] += s->responses_by_code[c];
	}
	const struct lwm2m_server_stats *ls = lwm2m_server_stats(d->lwm2m);
	const struct iot_devices_stats *is = iot_devices_stats(d->devices);
#define COUNTER(name, help, value)                                                          \
	fprintf(out, "# HELP " name " " help "\n# TYPE " name " counter\n" name " %" PRIu64 "\n", \
		(uint64_t)(value))
#define GAUGE(name, help, value)                                                            \
	fprintf(out, "# HELP " name " " help "\n# TYPE " name " gauge\n" name " %" PRIu64 "\n",   \
		(uint64_t)(value))
	COUNTER("lwm2md_coap_datagrams_in_total", "CoAP datagrams received.", sum.rx_datagrams);
	COUNTER("lwm2md_coap_datagrams_out_total", "CoAP datagrams sent.", sum.tx_datagrams);
	COUNTER("lwm2md_coap_malformed_total", "Datagrams that were not valid CoAP.",
		sum.rx_malformed);
	COUNTER("lwm2md_coap_duplicates_total", "Duplicate requests answered from the cache.",
		sum.rx_duplicates);
	COUNTER("lwm2md_coap_retransmissions_total", "Retransmitted server requests.",
		sum.retransmissions);
	fprintf(out, "# HELP lwm2md_coap_responses_total CoAP responses to requests, by code.\n"
		     "# TYPE lwm2md_coap_responses_total counter\n");
	for (int c = 0; c < 256; c++) {
		char code[5];
		if (sum.responses_by_code[c])
			fprintf(out, "lwm2md_coap_responses_total{code=\"%s\"} %" PRIu64 "\n",
				coap_code_format((uint8_t)c, code), sum.responses_by_code[c]);
	}
	GAUGE("lwm2md_coap_peers", "Peers in the CoAP exchange cache.", sum.peers);
	const struct coap_block_pool_stats *bp = coap_block_pool_stats(d->block_pool);
	GAUGE("lwm2md_coap_block1_bytes", "Memory held by block-wise uploads in progress.",
	      bp->bytes);
	GAUGE("lwm2md_coap_block1_bytes_limit", "The bound on that memory (--block1-pool-mib).",
	      bp->max_bytes);
	GAUGE("lwm2md_coap_block1_uploads", "Block-wise uploads in progress.", bp->uploads);
	COUNTER("lwm2md_coap_block1_dropped_total",
		"Block-wise uploads dropped to make room for newer blocks.", bp->dropped);
	COUNTER("lwm2md_registrations_total", "Successful LwM2M Registers.", ls->registrations);
	COUNTER("lwm2md_registration_updates_total", "LwM2M Updates.", ls->updates);
	COUNTER("lwm2md_deregistrations_total", "LwM2M De-registers.", ls->deregistrations);
	COUNTER("lwm2md_registration_expirations_total", "Registrations whose lifetime ended.",
		ls->expirations);
	COUNTER("lwm2md_registrations_rejected_total", "Registers refused.",
		ls->rejected_registrations);
	GAUGE("lwm2md_registrations_active", "Live registrations.", lwm2m_server_count(d->lwm2m));
	COUNTER("lwm2md_store_errors_total", "Failed registry writes.", is->store_errors);
	COUNTER("lwm2md_store_flushes_total", "Registry write batches.", is->flushes);
	COUNTER("lwm2md_store_flushes_deferred_total",
		"Flushes put off because the registrations writer was still busy.",
		is->flushes_deferred);
	struct store_registry_stats regs;
	store_registrations_stats(d->store, &regs);
	COUNTER("lwm2md_store_registration_batches_total",
		"Batches the registrations writer thread wrote.", regs.batches);
	COUNTER("lwm2md_store_registration_rows_total",
		"Registration puts and deletes the writer thread committed.", regs.rows);
	COUNTER("lwm2md_store_registration_errors_total",
		"Registration batches that failed and were rolled back.", regs.errors);
	GAUGE("lwm2md_store_registration_waiting", "Registration rows waiting for the writer.",
	      regs.waiting);
	fprintf(out, "# HELP lwm2md_store_registration_batch_seconds_max Longest a registration"
		     " batch took to write.\n# TYPE lwm2md_store_registration_batch_seconds_max"
		     " gauge\nlwm2md_store_registration_batch_seconds_max %.6f\n",
		(double)regs.max_batch_us / 1e6);
	COUNTER("lwm2md_registrations_coalesced_total",
		"Registers of a re-Register storm announced once, after it settled.",
		is->registers_coalesced);
	struct dtls_server_stats ds = {0};
	for (int i = 0; i < d->listener_count; i++) {
		if (!d->listeners[i].dtls)
			continue;
		const struct dtls_server_stats *x = dtls_server_stats(d->listeners[i].dtls);
		ds.hello_verify_sent += x->hello_verify_sent;
		ds.dropped_unverified += x->dropped_unverified;
		ds.handshakes_refused += x->handshakes_refused;
		ds.handshakes_done += x->handshakes_done;
		ds.handshakes_resumed += x->handshakes_resumed;
		ds.fail_unknown_identity += x->fail_unknown_identity;
		ds.fail_bad_key += x->fail_bad_key;
		ds.fail_timeout += x->fail_timeout;
		ds.fail_stalled += x->fail_stalled;
		ds.fail_throttled += x->fail_throttled;
		ds.handshakes_evicted += x->handshakes_evicted;
		ds.psk_lockouts += x->psk_lockouts;
		ds.psk_identities_tracked += x->psk_identities_tracked;
		ds.fail_other += x->fail_other;
		ds.hibernations += x->hibernations;
		ds.wakeups += x->wakeups;
		ds.sessions_live += x->sessions_live;
		ds.sessions_hibernated += x->sessions_hibernated;
		ds.handshakes_in_progress += x->handshakes_in_progress;
		ds.hibernated_bytes += x->hibernated_bytes;
		ds.contexts_created += x->contexts_created;
		ds.contexts_reused += x->contexts_reused;
		ds.cache_entries += x->cache_entries;
	}
	COUNTER("lwm2md_dtls_hello_verify_sent_total",
		"HelloVerifyRequests sent to ClientHellos without a valid cookie.",
		ds.hello_verify_sent);
	COUNTER("lwm2md_dtls_dropped_unverified_total",
		"Datagrams from peers without a session that were not a ClientHello.",
		ds.dropped_unverified);
	COUNTER("lwm2md_dtls_handshakes_total", "Full DTLS handshakes completed.",
		ds.handshakes_done);
	COUNTER("lwm2md_dtls_resumptions_total", "Abbreviated (resumed) DTLS handshakes completed.",
		ds.handshakes_resumed);
	fprintf(out, "# HELP lwm2md_dtls_handshake_failures_total DTLS handshakes that failed, by "
		     "reason.\n# TYPE lwm2md_dtls_handshake_failures_total counter\n");
	fprintf(out, "lwm2md_dtls_handshake_failures_total{reason=\"unknown_identity\"} %" PRIu64
		     "\n", ds.fail_unknown_identity);
	fprintf(out, "lwm2md_dtls_handshake_failures_total{reason=\"bad_key\"} %" PRIu64 "\n",
		ds.fail_bad_key);
	fprintf(out, "lwm2md_dtls_handshake_failures_total{reason=\"timeout\"} %" PRIu64 "\n",
		ds.fail_timeout);
	fprintf(out, "lwm2md_dtls_handshake_failures_total{reason=\"stalled\"} %" PRIu64 "\n",
		ds.fail_stalled);
	fprintf(out, "lwm2md_dtls_handshake_failures_total{reason=\"evicted\"} %" PRIu64 "\n",
		ds.handshakes_evicted);
	fprintf(out, "lwm2md_dtls_handshake_failures_total{reason=\"throttled\"} %" PRIu64 "\n",
		ds.fail_throttled);
	fprintf(out, "lwm2md_dtls_handshake_failures_total{reason=\"too_many\"} %" PRIu64 "\n",
		ds.handshakes_refused);
	fprintf(out, "lwm2md_dtls_handshake_failures_total{reason=\"other\"} %" PRIu64 "\n",
		ds.fail_other);
	COUNTER("lwm2md_dtls_psk_lockouts_total",
		"Backoffs of a PSK identity after repeated wrong keys.", ds.psk_lockouts);
	GAUGE("lwm2md_dtls_psk_identities_tracked",
	      "PSK identities with recent wrong keys (backing off or counting).",
	      ds.psk_identities_tracked);
	COUNTER("lwm2md_dtls_hibernations_total", "Idle DTLS sessions serialized and freed.",
		ds.hibernations);
	COUNTER("lwm2md_dtls_wakeups_total", "Hibernated DTLS sessions restored.", ds.wakeups);
	GAUGE("lwm2md_dtls_sessions_live", "DTLS sessions with a live mbedTLS context.",
	      ds.sessions_live);
	GAUGE("lwm2md_dtls_sessions_hibernated", "DTLS sessions kept serialized.",
	      ds.sessions_hibernated);
	GAUGE("lwm2md_dtls_handshakes_in_progress", "DTLS handshakes under way.",
	      ds.handshakes_in_progress);
	GAUGE("lwm2md_dtls_hibernated_bytes", "Memory of the hibernated DTLS sessions: serialized records and their entries.",
	      ds.hibernated_bytes);
	COUNTER("lwm2md_dtls_contexts_created_total",
		"mbedTLS contexts allocated for new DTLS sessions and wake-ups.", ds.contexts_created);
	COUNTER("lwm2md_dtls_contexts_reused_total",
		"mbedTLS contexts taken from the pool instead (--dtls-context-pool).",
		ds.contexts_reused);
	GAUGE("lwm2md_dtls_session_cache_entries", "Sessions in the DTLS session-id cache.",
	      ds.cache_entries);
	COUNTER("lwm2md_sends_total", "LwM2M Send (POST /dp) requests accepted.", d->sends);
	COUNTER("lwm2md_sends_refused_total", "LwM2M Sends refused: the peer is not registered.",
		d->sends_refused);
	COUNTER("lwm2md_log_lines_suppressed_total",
		"Log lines held back by the per-site rate limit (summarised instead).",
		log_rate_suppressed_total());
	if (d->requests) {
		const struct lwm2m_requests_stats *rs = lwm2m_requests_stats(d->requests);
		COUNTER("lwm2md_dm_requests_total", "Device Management requests sent to devices.",
			rs->sent);
		COUNTER("lwm2md_dm_answers_total", "Device Management requests the device answered.",
			rs->answered);
		COUNTER("lwm2md_dm_timeouts_total", "Device Management requests without an answer "
			"in time.", rs->timed_out);
		GAUGE("lwm2md_dm_requests_in_flight", "Device Management requests waiting.",
		      rs->in_flight);
	}
	if (d->platform) {
		const struct iot_platform_stats *ps = iot_platform_stats(d->platform);
		COUNTER("lwm2md_uplinks_total", "Binary reports (19/0/0) decoded by a codec.",
			ps->uplinks);
		COUNTER("lwm2md_property_reports_total", "Service reports stored in shadows.",
			ps->properties);
		COUNTER("lwm2md_codec_errors_total", "Payloads, results or reports a codec or the "
			"product model refused.", ps->codec_errors);
		COUNTER("lwm2md_unmatched_answers_total", "Command answers (deviceRsp) whose mid "
			"matched no command in flight.", ps->unmatched_answers);
		COUNTER("lwm2md_commands_created_total", "Commands accepted from the API.",
			ps->commands_created);
		COUNTER("lwm2md_commands_sent_total", "Commands sent to devices.", ps->commands_sent);
		COUNTER("lwm2md_commands_succeeded_total", "Commands the device answered with "
			"success.", ps->commands_succeeded);
		COUNTER("lwm2md_commands_failed_total", "Commands FAILED, TIMEOUT or EXPIRED.",
			ps->commands_failed);
		COUNTER("lwm2md_platform_device_cache_hits_total", "Device lookups of the platform "
			"answered by its cache.", ps->device_cache_hits);
		COUNTER("lwm2md_platform_device_cache_misses_total", "Device lookups of the "
			"platform read from the store.", ps->device_cache_misses);
		fprintf(out, "# HELP lwm2md_reports_dropped_total Binary reports not decoded, by "
			     "reason.\n# TYPE lwm2md_reports_dropped_total counter\n");
		fprintf(out, "lwm2md_reports_dropped_total{reason=\"queue_full\"} %" PRIu64 "\n",
			ps->reports_queue_full);
		fprintf(out, "lwm2md_reports_dropped_total{reason=\"suspended\"} %" PRIu64 "\n",
			ps->reports_suspended);
		fprintf(out, "lwm2md_reports_dropped_total{reason=\"cancelled\"} %" PRIu64 "\n",
			ps->reports_cancelled);
		struct codec_worker_stats cs;
		iot_platform_codec_stats(d->platform, &cs);
		COUNTER("lwm2md_codec_jobs_total", "Codec jobs (decode, encode, test, compile) the "
			"codec threads ran.", cs.jobs);
		COUNTER("lwm2md_codec_timeouts_total", "Codec jobs that ran out of time.",
			cs.timeouts);
		fprintf(out, "# HELP lwm2md_codec_jobs_refused_total Codec jobs refused, by reason."
			     "\n# TYPE lwm2md_codec_jobs_refused_total counter\n");
		fprintf(out, "lwm2md_codec_jobs_refused_total{reason=\"queue_full\"} %" PRIu64 "\n",
			cs.refused_full);
		fprintf(out, "lwm2md_codec_jobs_refused_total{reason=\"suspended\"} %" PRIu64 "\n",
			cs.refused_suspended);
		COUNTER("lwm2md_codec_jobs_cancelled_total", "Codec jobs cancelled (product gone, "
			"or left at shutdown).", cs.cancelled);
		COUNTER("lwm2md_codec_suspensions_total", "Codecs suspended for running out of time "
			"too often.", cs.suspensions);
		GAUGE("lwm2md_codec_jobs_queued", "Codec jobs waiting for a codec thread.", cs.queued);
		GAUGE("lwm2md_codec_jobs_running", "Codec jobs running now.", cs.running);
		GAUGE("lwm2md_codec_products_suspended", "Products whose codec is suspended now.",
		      cs.suspended);
		GAUGE("lwm2md_codec_threads", "Threads running JavaScript codecs.", cs.threads);
	}
	if (d->push)
		push_write_metrics(d->push, out);
	if (d->fw_engine) {
		const struct fw_engine_stats *fs = fw_engine_stats(d->fw_engine);
		GAUGE("lwm2md_firmware_updates_running", "Devices updating firmware now.", fs->jobs);
		COUNTER("lwm2md_firmware_updates_started_total", "Firmware updates started.",
			fs->started);
		COUNTER("lwm2md_firmware_updates_succeeded_total", "Firmware updates that ended "
			"with the package's version on the device.", fs->succeeded);
		COUNTER("lwm2md_firmware_updates_failed_total", "Firmware updates that failed.",
			fs->failed);
		COUNTER("lwm2md_firmware_updates_skipped_total", "Devices skipped: already "
			"current, or a version not targeted.", fs->skipped);
		COUNTER("lwm2md_firmware_blocks_served_total", "Package blocks served to devices "
			"pulling firmware.", fs->blocks_served);
		COUNTER("lwm2md_firmware_bytes_served_total", "Package bytes served to devices "
			"pulling firmware.", fs->bytes_served);
		COUNTER("lwm2md_firmware_downloads_refused_total", "Download requests refused: "
			"unknown, expired or another device's token, or a bad block.",
			fs->downloads_refused);
		COUNTER("lwm2md_firmware_pushes_total", "Packages written to devices (push).",
			fs->pushes);
	}
	if (d->bootstrap) {
		const struct bs_server_stats *bs = bs_server_stats(d->bootstrap);
		COUNTER("lwm2md_bootstrap_requests_total", "Bootstrap-Requests (POST /bs) "
			"received.", bs->requests);
		COUNTER("lwm2md_bootstrap_refused_total", "Bootstrap-Requests refused: unknown "
			"device, no configuration, plain not allowed, too many at once.",
			bs->refused);
		COUNTER("lwm2md_bootstrap_succeeded_total", "Bootstraps that ended with "
			"Bootstrap-Finish 2.04.", bs->succeeded);
		COUNTER("lwm2md_bootstrap_failed_total", "Bootstraps that failed (a device "
			"answer, a timeout).", bs->failed);
		GAUGE("lwm2md_bootstrap_in_progress", "Bootstraps in progress.", bs->in_progress);
	}
	COUNTER("lwm2md_devices_expired_inactive_total",
		"Devices deleted because they never connected in time.", is->expired_inactive);
	metrics_process_write(out);
#undef COUNTER
#undef GAUGE
}
