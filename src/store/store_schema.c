/*
 * store_schema: the registry's tables, as the steps that made them, and the migration that
 * brings any database up to the last step at open.
 *
 * Each step is applied once, in order, in its own transaction; PRAGMA user_version records
 * the last one applied. A step is never edited once released: a change of schema is a new
 * step at the end (ALTER TABLE, a new index, moving data), so that every database the
 * daemon ever made opens with every later daemon. A database of a newer schema than this
 * daemon knows is refused rather than guessed at.
 */
#include "store/store_internal.h"

#include <errno.h>
#include <stdio.h>

#include "util/log.h"

/* Each schema version is applied once, in order; PRAGMA user_version records the last. */
static const char *const schema_steps[] = {
	/* 1: the foundation registry. */
	"CREATE TABLE projects ("
	"  project_id TEXT PRIMARY KEY,"
	"  create_time INTEGER NOT NULL);"
	"CREATE TABLE tokens ("
	"  token_hash TEXT PRIMARY KEY,"
	"  project_id TEXT NOT NULL REFERENCES projects(project_id),"
	"  create_time INTEGER NOT NULL);"
	"CREATE TABLE products ("
	"  project_id TEXT NOT NULL REFERENCES projects(project_id),"
	"  product_id TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  device_type TEXT NOT NULL,"
	"  manufacturer_name TEXT NOT NULL,"
	"  protocol_type TEXT NOT NULL,"
	"  data_format TEXT NOT NULL,"
	"  description TEXT NOT NULL,"
	"  create_time INTEGER NOT NULL,"
	"  PRIMARY KEY (project_id, product_id));"
	"CREATE TABLE devices ("
	"  device_id TEXT PRIMARY KEY,"
	"  project_id TEXT NOT NULL,"
	"  node_id TEXT NOT NULL UNIQUE,"
	"  device_name TEXT NOT NULL,"
	"  product_id TEXT NOT NULL,"
	"  description TEXT NOT NULL,"
	"  secret TEXT NOT NULL,"
	"  secure_access INTEGER NOT NULL,"
	"  timeout INTEGER NOT NULL,"
	"  status INTEGER NOT NULL,"
	"  create_time INTEGER NOT NULL,"
	"  FOREIGN KEY (project_id, product_id) REFERENCES products(project_id, product_id));"
	"CREATE INDEX devices_by_project ON devices(project_id, create_time, device_id);"
	"CREATE INDEX devices_inactive ON devices(create_time + timeout)"
	"  WHERE status = 0 AND timeout > 0;"
	"CREATE TABLE registrations ("
	"  node_id TEXT PRIMARY KEY,"
	"  reg_id TEXT NOT NULL,"
	"  lifetime INTEGER NOT NULL,"
	"  binding TEXT NOT NULL,"
	"  lwm2m_version TEXT NOT NULL,"
	"  links TEXT NOT NULL,"
	"  peer TEXT NOT NULL,"
	"  transport TEXT NOT NULL,"
	"  queue_mode INTEGER NOT NULL,"
	"  registered_at_ms INTEGER NOT NULL,"
	"  updated_at_ms INTEGER NOT NULL);",
	/* 2: DTLS sessions saved at shutdown, one per identity (node_id). */
	"CREATE TABLE dtls_sessions ("
	"  identity TEXT PRIMARY KEY,"
	"  peer TEXT NOT NULL,"
	"  data BLOB NOT NULL,"
	"  saved_at INTEGER NOT NULL);",
	/* 3: observations, so that notifications after a restart find theirs. */
	"CREATE TABLE observations ("
	"  token BLOB PRIMARY KEY,"
	"  id INTEGER NOT NULL,"
	"  node_id TEXT NOT NULL,"
	"  path TEXT NOT NULL);",
	/* 4: the Accept of reads per product and per device (-1: none given); a product's
	 * model (service_capabilities, JSON) and codec (kind and source). */
	"ALTER TABLE products ADD COLUMN read_format INTEGER NOT NULL DEFAULT -1;"
	"ALTER TABLE devices ADD COLUMN read_format INTEGER NOT NULL DEFAULT -1;"
	"ALTER TABLE products ADD COLUMN service_capabilities TEXT NOT NULL DEFAULT '[]';"
	"ALTER TABLE products ADD COLUMN codec_kind TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE products ADD COLUMN codec_source TEXT NOT NULL DEFAULT '';",
	/* 5: the platform layer: device shadows, commands (stored so none is lost or sent
	 * twice across a restart). */
	"CREATE TABLE shadows ("
	"  device_id TEXT NOT NULL,"
	"  service_id TEXT NOT NULL,"
	"  reported TEXT NOT NULL DEFAULT '{}',"
	"  reported_version INTEGER NOT NULL DEFAULT 0,"
	"  reported_time_ms INTEGER NOT NULL DEFAULT 0,"
	"  desired TEXT NOT NULL DEFAULT '{}',"
	"  desired_version INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (device_id, service_id));"
	"CREATE TABLE commands ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  command_id TEXT NOT NULL UNIQUE,"
	"  project_id TEXT NOT NULL,"
	"  device_id TEXT NOT NULL,"
	"  node_id TEXT NOT NULL,"
	"  service_id TEXT NOT NULL,"
	"  command_name TEXT NOT NULL,"
	"  paras TEXT NOT NULL,"
	"  send_strategy TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  mid INTEGER NOT NULL,"
	"  created_ms INTEGER NOT NULL,"
	"  expire_ms INTEGER NOT NULL,"
	"  sent_ms INTEGER NOT NULL DEFAULT 0,"
	"  delivered_ms INTEGER NOT NULL DEFAULT 0,"
	"  response_ms INTEGER NOT NULL DEFAULT 0,"
	"  result TEXT NOT NULL DEFAULT 'null');"
	"CREATE INDEX commands_by_device ON commands(device_id, seq);"
	"CREATE INDEX commands_open ON commands(node_id, seq)"
	"  WHERE status IN ('PENDING','SENT','DELIVERED');",
	/* 6: push to applications — forwarding rules, and the outbox of events not yet
	 * delivered (state 1: in flight; reset to 0 at start). */
	"CREATE TABLE forwarding_rules ("
	"  rule_id TEXT PRIMARY KEY,"
	"  project_id TEXT NOT NULL,"
	"  url TEXT NOT NULL,"
	"  events TEXT NOT NULL,"
	"  create_time INTEGER NOT NULL);"
	"CREATE INDEX rules_by_project ON forwarding_rules(project_id, create_time);"
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  url TEXT NOT NULL,"
	"  body TEXT NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_ms INTEGER NOT NULL,"
	"  state INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX outbox_due ON outbox(state, next_ms);",
	/* 7: products of standard objects map resource paths to service properties. */
	"ALTER TABLE products ADD COLUMN resource_mappings TEXT NOT NULL DEFAULT '[]';",
	/* 8: the commands queries (next PENDING of a device, SENT/DELIVERED by mid, what is
	 * due) scanned the table: SQLite does not match their status conditions to the
	 * partial index of version 5. */
	"DROP INDEX commands_open;"
	"CREATE INDEX commands_by_node ON commands(node_id, status, seq);"
	"CREATE INDEX commands_by_status ON commands(status, expire_ms);",
	/* 9: the desired shadow's time of change (IoTDA shows desired.event_time). */
	"ALTER TABLE shadows ADD COLUMN desired_time_ms INTEGER NOT NULL DEFAULT 0;",
	/* 10: the outbox per project and rule, so that one project's quota, delivery slots
	 * and circuit breakers never touch another's rows (docs/api.md "Push"). Rows from
	 * before take the project and rule of the first rule with their URL, or '' when that
	 * rule is gone. */
	"ALTER TABLE outbox ADD COLUMN project_id TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE outbox ADD COLUMN rule_id TEXT NOT NULL DEFAULT '';"
	"UPDATE outbox SET (project_id, rule_id) = (SELECT project_id, rule_id"
	"  FROM forwarding_rules r WHERE r.url = outbox.url ORDER BY create_time, rule_id LIMIT 1)"
	"  WHERE EXISTS (SELECT 1 FROM forwarding_rules r WHERE r.url = outbox.url);"
	"DROP INDEX outbox_due;"
	"CREATE INDEX outbox_by_rule ON outbox(project_id, rule_id, state, next_ms);"
	"CREATE INDEX outbox_by_project ON outbox(project_id, id);",
	/* 11: what an observation asked with, so that it is cancelled alike after a restart
	 * (RFC 7641 §3.6): its Accept (-1: none), and an Observe-Composite's paths. */
	"ALTER TABLE observations ADD COLUMN format INTEGER NOT NULL DEFAULT -1;"
	"ALTER TABLE observations ADD COLUMN paths TEXT NOT NULL DEFAULT '';",
	/* 12: the console (docs/api.md "Statistics", "List devices", "Codec examples").
	 * device_counts holds how many devices each (project, product, status) has, kept by
	 * triggers in the same transaction as the change, so that a count never scans the
	 * devices. The listing walks an index in rowid (creation) order for each filter it
	 * serves without a scan — project; product; status; product and status — and a name
	 * or node_id prefix walks its own index, ordered by (name, node_id) or node_id (both
	 * unique) and covering the other filters, so that checking them reads no row;
	 * devices_by_project (ordered by create_time) serves none of them any more. A product
	 * keeps its codec's examples (JSON). */
	"CREATE TABLE device_counts ("
	"  project_id TEXT NOT NULL,"
	"  product_id TEXT NOT NULL,"
	"  status INTEGER NOT NULL,"
	"  n INTEGER NOT NULL,"
	"  PRIMARY KEY (project_id, product_id, status)) WITHOUT ROWID;"
	"INSERT INTO device_counts SELECT project_id, product_id, status, count(*) FROM devices"
	"  GROUP BY project_id, product_id, status;"
	"CREATE TRIGGER device_counts_insert AFTER INSERT ON devices BEGIN"
	"  INSERT INTO device_counts VALUES (new.project_id, new.product_id, new.status, 1)"
	"    ON CONFLICT (project_id, product_id, status) DO UPDATE SET n = n + 1;"
	"  END;"
	"CREATE TRIGGER device_counts_delete AFTER DELETE ON devices BEGIN"
	"  UPDATE device_counts SET n = n - 1 WHERE project_id = old.project_id"
	"    AND product_id = old.product_id AND status = old.status;"
	"  END;"
	"CREATE TRIGGER device_counts_status AFTER UPDATE OF status ON devices"
	"  WHEN old.status != new.status BEGIN"
	"  UPDATE device_counts SET n = n - 1 WHERE project_id = old.project_id"
	"    AND product_id = old.product_id AND status = old.status;"
	"  INSERT INTO device_counts VALUES (new.project_id, new.product_id, new.status, 1)"
	"    ON CONFLICT (project_id, product_id, status) DO UPDATE SET n = n + 1;"
	"  END;"
	"DROP INDEX devices_by_project;"
	"CREATE INDEX devices_by_project ON devices(project_id);"
	"CREATE INDEX devices_by_product ON devices(project_id, product_id);"
	"CREATE INDEX devices_by_status ON devices(project_id, status);"
	"CREATE INDEX devices_by_product_status ON devices(project_id, product_id, status);"
	"CREATE INDEX devices_by_name ON devices(project_id, device_name, node_id, product_id,"
	"  status);"
	"CREATE INDEX devices_by_node ON devices(project_id, node_id, device_name, product_id,"
	"  status);"
	"ALTER TABLE products ADD COLUMN codec_examples TEXT NOT NULL DEFAULT '[]';",
	/* 13: tokens get an id to be listed and revoked by (short, not secret: tokens from
	 * before get a random one), a name, an expiry and when they were last used (Unix
	 * seconds; 0: never). */
	"ALTER TABLE tokens ADD COLUMN token_id TEXT;"
	"ALTER TABLE tokens ADD COLUMN name TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE tokens ADD COLUMN expire_time INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE tokens ADD COLUMN last_used INTEGER NOT NULL DEFAULT 0;"
	"UPDATE tokens SET token_id = lower(hex(randomblob(6)));"
	"CREATE UNIQUE INDEX tokens_by_id ON tokens(token_id);"
	"CREATE INDEX tokens_by_project ON tokens(project_id, create_time);",
	/* 14: firmware (docs/firmware.md). A package's bytes are a file named by its SHA-256
	 * beside the registry, never a row; a campaign's settings are one JSON text (the
	 * firmware module owns their shape); each target device has a row with its place in
	 * the update, seq being its order in the campaign. */
	"CREATE TABLE fw_packages ("
	"  project_id TEXT NOT NULL, package_id TEXT NOT NULL, product_id TEXT NOT NULL,"
	"  version TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',"
	"  sha256 TEXT NOT NULL, size INTEGER NOT NULL, create_time INTEGER NOT NULL,"
	"  PRIMARY KEY (project_id, package_id),"
	"  UNIQUE (project_id, product_id, version));"
	"CREATE INDEX fw_packages_by_sha ON fw_packages(sha256);"
	"CREATE TABLE fw_campaigns ("
	"  project_id TEXT NOT NULL, campaign_id TEXT NOT NULL PRIMARY KEY,"
	"  package_id TEXT NOT NULL, spec TEXT NOT NULL, status INTEGER NOT NULL,"
	"  stop_reason TEXT NOT NULL DEFAULT '', create_time INTEGER NOT NULL,"
	"  start_ms INTEGER NOT NULL DEFAULT 0, end_ms INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX fw_campaigns_by_project ON fw_campaigns(project_id, create_time);"
	"CREATE INDEX fw_campaigns_by_package ON fw_campaigns(project_id, package_id);"
	"CREATE TABLE fw_targets ("
	"  campaign_id TEXT NOT NULL, seq INTEGER NOT NULL, device_id TEXT NOT NULL,"
	"  node_id TEXT NOT NULL, state INTEGER NOT NULL, reason TEXT NOT NULL DEFAULT '',"
	"  result INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,"
	"  bytes INTEGER NOT NULL DEFAULT 0, method INTEGER NOT NULL DEFAULT 0,"
	"  token TEXT NOT NULL DEFAULT '', next_ms INTEGER NOT NULL DEFAULT 0,"
	"  updated_ms INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (campaign_id, seq));"
	"CREATE INDEX fw_targets_by_node ON fw_targets(node_id);",
	/* 15: bootstrap (docs/bootstrap.md). A device's own bootstrap configuration (with
	 * its bootstrap credential, found by identity at the handshake), a product's
	 * template, and each device's last bootstraps. Configurations are JSON texts the
	 * bootstrap module owns the shape of. */
	"CREATE TABLE bs_devices ("
	"  project_id TEXT NOT NULL, device_id TEXT NOT NULL, node_id TEXT NOT NULL,"
	"  bs_identity TEXT NOT NULL, config TEXT NOT NULL, update_time INTEGER NOT NULL,"
	"  PRIMARY KEY (project_id, device_id));"
	"CREATE UNIQUE INDEX bs_devices_by_identity ON bs_devices(bs_identity);"
	"CREATE INDEX bs_devices_by_node ON bs_devices(node_id);"
	"CREATE TABLE bs_templates ("
	"  project_id TEXT NOT NULL, product_id TEXT NOT NULL, config TEXT NOT NULL,"
	"  update_time INTEGER NOT NULL, PRIMARY KEY (project_id, product_id));"
	"CREATE TABLE bs_history ("
	"  project_id TEXT NOT NULL, device_id TEXT NOT NULL, time_ms INTEGER NOT NULL,"
	"  result TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', transport TEXT NOT NULL"
	"  DEFAULT '');"
	"CREATE INDEX bs_history_by_device ON bs_history(project_id, device_id, time_ms);"
	"CREATE TRIGGER bs_device_gone AFTER DELETE ON devices BEGIN"
	"  DELETE FROM bs_devices WHERE project_id = old.project_id"
	"    AND device_id = old.device_id;"
	"  DELETE FROM bs_history WHERE project_id = old.project_id"
	"    AND device_id = old.device_id;"
	"  END;"
	"CREATE TRIGGER bs_template_gone AFTER DELETE ON products BEGIN"
	"  DELETE FROM bs_templates WHERE project_id = old.project_id"
	"    AND product_id = old.product_id;"
	"  END;",
};

static int exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		LOG_ERROR("store", "%s: %s", sql, err ? err : "?");
		sqlite3_free(err);
		return -EIO;
	}
	return 0;
}

int store_schema_migrate(sqlite3 *db)
{
	sqlite3_stmt *st;
	int version = 0;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) {
		LOG_ERROR("store", "user_version: %s", sqlite3_errmsg(db));
		return -EIO;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);

	int known = (int)(sizeof(schema_steps) / sizeof(schema_steps[0]));
	if (version > known) {
		LOG_ERROR("store", "database schema %d is newer than this lwm2md knows (%d)", version,
			  known);
		return -EIO;
	}
	for (int v = version; v < known; v++) {
		char pragma[64];
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v + 1);
		if (exec(db, "BEGIN IMMEDIATE") || exec(db, schema_steps[v]) || exec(db, pragma)) {
			exec(db, "ROLLBACK");
			return -EIO;
		}
		if (exec(db, "COMMIT"))
			return -EIO;
		LOG_DEBUG("store", "schema step %d done", v + 1);
	}
	/* One line at start, whatever was done: what an operator needs after an upgrade. */
	if (version < known)
		LOG_INFO("store", "schema at version %d (migrated from %d)", known, version);
	else
		LOG_INFO("store", "schema at version %d", known);
	return 0;
}
