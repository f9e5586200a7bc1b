#!/usr/bin/env python3
"""Writes docs/grafana/lwm2md.json, a Grafana dashboard of lwm2md's /metrics.

The dashboard is generated so that its panels stay few lines each to read and change;
edit the PANELS below and run this script (Python 3, standard library only). The test
test_metrics_process checks that every series the dashboard names is one /metrics has.

Import: Grafana → Dashboards → New → Import → upload lwm2md.json, pick the Prometheus
data source that scrapes lwm2md (its `instance` label selects the node).
"""
import json
import os

SEL = '{instance=~"$instance"}'
RATE = "[$__rate_interval]"


def rate(metric, by=None, label=None):
    """A per-second rate of a counter, summed (by labels when given)."""
    expr = f"rate({metric}{SEL}{RATE})"
    if by:
        return (f"sum by ({by}) ({expr})", label or "{{" + by + "}}")
    return (f"sum({expr})", label or metric.replace("lwm2md_", "").replace("_total", ""))


def gauge(metric, label=None):
    return (f"sum({metric}{SEL})", label or metric.replace("lwm2md_", ""))


# (title, unit, [(expr, legend)], kind) — kind "stat" or "timeseries".
ROWS = [
    ("Devices", [
        ("Registered devices", "short", [gauge("lwm2md_registrations_active", "registered")], "stat"),
        ("Registrations", "reqps", [rate("lwm2md_registrations_total"),
                                    rate("lwm2md_registration_updates_total", label="updates"),
                                    rate("lwm2md_deregistrations_total"),
                                    rate("lwm2md_registration_expirations_total", label="expirations")],
         "timeseries"),
        ("Registrations refused", "reqps", [rate("lwm2md_registrations_rejected_total", by="reason")],
         "timeseries"),
        ("Reports and sends", "reqps", [rate("lwm2md_uplinks_total", label="uplinks"),
                                        rate("lwm2md_property_reports_total", label="property reports"),
                                        rate("lwm2md_sends_total", label="sends"),
                                        rate("lwm2md_reports_dropped_total", label="reports dropped")],
         "timeseries"),
    ]),
    ("CoAP and DTLS", [
        ("Datagrams", "pps", [rate("lwm2md_coap_datagrams_in_total", label="in"),
                              rate("lwm2md_coap_datagrams_out_total", label="out"),
                              rate("lwm2md_coap_malformed_total", label="malformed"),
                              rate("lwm2md_coap_retransmissions_total", label="retransmissions")],
         "timeseries"),
        ("CoAP responses by code", "reqps", [rate("lwm2md_coap_responses_total", by="code")], "timeseries"),
        ("DTLS sessions", "short", [gauge("lwm2md_dtls_sessions_live", "live"),
                                    gauge("lwm2md_dtls_sessions_hibernated", "hibernated"),
                                    gauge("lwm2md_dtls_handshakes_in_progress", "handshaking")],
         "timeseries"),
        ("DTLS handshakes", "reqps", [rate("lwm2md_dtls_handshakes_total", label="handshakes"),
                                      rate("lwm2md_dtls_resumptions_total", label="resumptions"),
                                      rate("lwm2md_dtls_handshake_failures_total", label="failures"),
                                      rate("lwm2md_dtls_psk_lockouts_total", label="PSK lockouts")],
         "timeseries"),
    ]),
    ("Device management and commands", [
        ("Device calls", "reqps", [rate("lwm2md_dm_requests_total", label="requests"),
                                   rate("lwm2md_dm_answers_total", label="answers"),
                                   rate("lwm2md_dm_timeouts_total", label="timeouts")], "timeseries"),
        ("Device calls waiting", "short", [gauge("lwm2md_dm_requests_in_flight", "in flight")], "timeseries"),
        ("Commands", "reqps", [rate("lwm2md_commands_created_total", label="created"),
                               rate("lwm2md_commands_sent_total", label="sent"),
                               rate("lwm2md_commands_succeeded_total", label="succeeded"),
                               rate("lwm2md_commands_failed_total", label="failed")], "timeseries"),
        ("Codecs", "reqps", [rate("lwm2md_codec_jobs_total", label="jobs"),
                             rate("lwm2md_codec_errors_total", label="errors"),
                             rate("lwm2md_codec_timeouts_total", label="timeouts"),
                             gauge("lwm2md_codec_jobs_queued", "queued")], "timeseries"),
    ]),
    ("Push and API", [
        ("Push deliveries", "reqps", [rate("lwm2md_push_delivered_total", label="delivered"),
                                      rate("lwm2md_push_failures_total", label="failures"),
                                      rate("lwm2md_push_dropped_total", label="dropped")], "timeseries"),
        ("Push backlog", "short", [gauge("lwm2md_push_outbox", "outbox"),
                                   gauge("lwm2md_push_in_flight", "in flight")], "timeseries"),
        ("REST API by status", "reqps", [rate("lwm2md_http_requests_total", by="code")], "timeseries"),
        ("Connections and event streams", "short", [gauge("lwm2md_http_connections", "connections"),
                                                    gauge("lwm2md_http_event_streams", "event streams")],
         "timeseries"),
    ]),
    ("Process and store", [
        ("CPU", "percentunit", [(f"rate(process_cpu_seconds_total{SEL}{RATE})", "{{instance}}")], "timeseries"),
        ("Resident memory", "bytes", [(f"process_resident_memory_bytes{SEL}", "{{instance}}")], "timeseries"),
        ("File descriptors", "short", [(f"process_open_fds{SEL}", "open {{instance}}"),
                                       (f"process_max_fds{SEL}", "limit {{instance}}")], "timeseries"),
        ("Store", "ops", [rate("lwm2md_store_flushes_total", label="flushes"),
                          rate("lwm2md_store_errors_total", label="errors")], "timeseries"),
        ("Uptime", "s", [(f"time() - process_start_time_seconds{SEL}", "{{instance}}")], "stat"),
        ("Version", "none", [(f"lwm2md_build_info{SEL}", "{{version}} sqlite {{sqlite}} mbedtls {{mbedtls}}")],
         "stat"),
    ]),
]


def panel(pid, title, unit, targets, kind, x, y):
    p = {
        "id": pid, "type": kind, "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 6, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"refId": chr(ord("A") + i), "expr": e, "legendFormat": l}
                    for i, (e, l) in enumerate(targets)],
    }
    if kind == "stat":
        p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"]},
                        "textMode": "name" if unit == "none" else "value"}
    return p


def dashboard():
    panels, pid, y = [], 1, 0
    for row_title, row in ROWS:
        panels.append({"id": pid, "type": "row", "title": row_title, "collapsed": False,
                       "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
        pid, y = pid + 1, y + 1
        for i, (title, unit, targets, kind) in enumerate(row):
            if i and i % 4 == 0:
                y += 8
            panels.append(panel(pid, title, unit, targets, kind, (i % 4) * 6, y))
            pid += 1
        y += 8
    return {
        "title": "lwm2md", "uid": "lwm2md", "schemaVersion": 39, "version": 1,
        "editable": True, "refresh": "30s", "time": {"from": "now-6h", "to": "now"},
        "tags": ["lwm2md", "lwm2m", "iot"],
        "templating": {"list": [
            {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Data source"},
            {"name": "instance", "type": "query", "label": "Node", "multi": True, "includeAll": True,
             "datasource": {"type": "prometheus", "uid": "${datasource}"},
             "query": {"query": "label_values(lwm2md_build_info, instance)", "refId": "instance"},
             "refresh": 2, "allValue": ".*"},
        ]},
        "panels": panels,
    }


if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lwm2md.json")
    with open(out, "w") as f:
        json.dump(dashboard(), f, indent=1)
        f.write("\n")
    print(out)
