/*
 * harness_fw: the firmware tests' fixture (harness_fw.h).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness_fw.h"

void fw_setup(struct fw_fixture *f, const char *const *args)
{
	memset(f, 0, sizeof(*f));
	daemon_start(&f->d, args);
	api_create_product(&f->d, "meter");
}

void fw_sim_stop(struct fw_sim *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
}

void fw_teardown(struct fw_fixture *f)
{
	for (int i = 0; i < f->sim_count; i++)
		fw_sim_stop(&f->sims[i]);
	daemon_cleanup(&f->d);
}

const char *fw_sim_output(const struct fw_sim *s)
{
	return sim_output_of(s->out);
}

int fw_sim_wait(const struct fw_sim *s, const char *needle, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		if (strstr(fw_sim_output(s), needle))
			return 0;
		sleep_ms(20);
	}
	return -1;
}

int fw_sim_start(struct fw_fixture *f, const char *node, bool secure, const char *extra,
		 bool wait)
{
	assert_true(f->sim_count < FW_MAX_SIMS);
	struct fw_sim *s = &f->sims[f->sim_count];
	memset(s, 0, sizeof(*s));
	snprintf(s->node, sizeof(s->node), "%s", node);
	s->secure = secure;
	snprintf(s->out, sizeof(s->out), "%s/sim-%s.out", f->d.dir, node);
	char body[384], resp[2048];
	snprintf(body, sizeof(body),
		 "{\"node_id\":\"%s\",\"product_id\":\"meter\",\"auth_info\":"
		 "{\"secure_access\":%s,\"secret\":\"" FW_KEY_HEX "\"}}",
		 node, secure ? "true" : "false");
	int status = http_call(&f->d, "POST", "/v5/iot/p1/devices", body, resp, sizeof(resp));
	if (status != 201)
		fail_msg("device create: %d %s", status, resp);
	json_t *doc = json_loads(resp, 0, NULL);
	const char *dev = json_string_value(json_object_get(doc, "device_id"));
	assert_non_null(dev);
	snprintf(s->dev, sizeof(s->dev), "%s", dev);
	json_decref(doc);

	f->sim_count++;
	fw_sim_launch(f, f->sim_count - 1, extra, wait);
	return f->sim_count - 1;
}

void fw_sim_launch(struct fw_fixture *f, int i, const char *extra, bool wait)
{
	struct fw_sim *s = &f->sims[i];
	bool secure = s->secure;
	const char *node = s->node;
	char addr[ADDR_STR_MAX], cmd[2048];
	addr_format(secure ? &f->d.coaps : &f->d.coap, addr);
	if (secure)
		snprintf(cmd, sizeof(cmd),
			 "exec %s --server %s --psk-identity %s --psk " FW_KEY_HEX
			 " --lifetime 300 --serve 120 --fw %s >> %s 2>&1",
			 sim_bin(), addr, node, extra ? extra : "", s->out);
	else
		snprintf(cmd, sizeof(cmd),
			 "exec %s --server %s --ep %s --lifetime 300 --serve 120 --fw %s >> %s 2>&1",
			 sim_bin(), addr, node, extra ? extra : "", s->out);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (wait && fw_sim_wait(s, "registered rd/", 15000) != 0)
		fail_msg("the simulator %s did not register: %s", node, fw_sim_output(s));
}

void fw_upload(struct fw_fixture *f, const char *version, size_t size, char id[64])
{
	char *bytes = malloc(size);
	assert_non_null(bytes);
	int head = snprintf(bytes, size, "LWM2MFW version=%s\n", version);
	assert_true(head > 0 && (size_t)head < size);
	for (size_t i = (size_t)head; i < size; i++)
		bytes[i] = (char)('a' + i % 26);
	char path[256], resp[4096];
	snprintf(path, sizeof(path), "/v5/iot/p1/firmware?product_id=meter&version=%s", version);
	int status = http_call_type(&f->d, "POST", path, "application/octet-stream", bytes, size,
				    resp, sizeof(resp));
	free(bytes);
	if (status != 201)
		fail_msg("package upload: %d %s", status, resp);
	json_t *doc = json_loads(resp, 0, NULL);
	const char *pid = json_string_value(json_object_get(doc, "package_id"));
	assert_non_null(pid);
	snprintf(id, 64, "%s", pid);
	json_decref(doc);
}

void fw_campaign_create(struct fw_fixture *f, const char *body, char id[64])
{
	char resp[8192];
	int status = http_call(&f->d, "POST", "/v5/iot/p1/firmware-campaigns", body, resp,
			       sizeof(resp));
	if (status != 201)
		fail_msg("campaign create: %d %s\nbody: %s", status, resp, body);
	json_t *doc = json_loads(resp, 0, NULL);
	const char *cid = json_string_value(json_object_get(doc, "campaign_id"));
	assert_non_null(cid);
	snprintf(id, 64, "%s", cid);
	json_decref(doc);
}

static json_t *get_json(struct fw_fixture *f, const char *path)
{
	static char resp[262144];
	int status = http_call(&f->d, "GET", path, NULL, resp, sizeof(resp));
	if (status != 200)
		fail_msg("GET %s: %d %s", path, status, resp);
	json_error_t err;
	json_t *doc = json_loads(resp, 0, &err);
	if (!doc)
		fail_msg("GET %s: not JSON (%s): %s", path, err.text, resp);
	return doc;
}

json_t *fw_campaign_get(struct fw_fixture *f, const char *id)
{
	char path[256];
	snprintf(path, sizeof(path), "/v5/iot/p1/firmware-campaigns/%s", id);
	return get_json(f, path);
}

json_t *fw_campaign_devices(struct fw_fixture *f, const char *id)
{
	char path[256];
	snprintf(path, sizeof(path), "/v5/iot/p1/firmware-campaigns/%s/devices?limit=1000", id);
	return get_json(f, path);
}

int fw_count(json_t *campaign, const char *state)
{
	return (int)json_integer_value(json_object_get(json_object_get(campaign, "counts"), state));
}

json_t *fw_campaign_wait_status(struct fw_fixture *f, const char *id, const char *want,
				int timeout_ms)
{
	json_t *doc = NULL;
	for (int waited = 0; waited <= timeout_ms; waited += 100) {
		json_decref(doc);
		doc = fw_campaign_get(f, id);
		const char *status = json_string_value(json_object_get(doc, "status"));
		if (status && strcmp(status, want) == 0)
			return doc;
		sleep_ms(100);
	}
	char *text = json_dumps(doc, JSON_INDENT(1));
	json_t *devs = fw_campaign_devices(f, id);
	char *dtext = json_dumps(devs, JSON_INDENT(1));
	fail_msg("campaign %s did not become %s: %s\ndevices: %s\nsim 0: %s", id, want, text,
		 dtext, f->sim_count ? fw_sim_output(&f->sims[0]) : "-");
	return NULL;
}
