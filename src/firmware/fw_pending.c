/*
 * fw_pending: TEMPORARY — weak stand-ins for the functions the campaign manager calls
 * that other branches define (fw_engine.c: start, resume, stop; fw_package.c: the
 * package file; store_fw_packages.c: store_fw_package_get), so that this branch links
 * alone. Each answers -ENOSYS. Delete this file once fw-packages and the engine are
 * merged: the real (strong) definitions win over these anyway.
 */
#include <errno.h>

#include "firmware/fw_engine.h"
#include "firmware/fw_package.h"
#include "store/store_firmware.h"

#define WEAK __attribute__((weak))

WEAK int fw_engine_start(struct fw_engine *e, struct fw_job *job)
{
	(void)e;
	(void)job;
	return -ENOSYS;
}

WEAK int fw_engine_resume(struct fw_engine *e, struct fw_job *job)
{
	(void)e;
	(void)job;
	return -ENOSYS;
}

WEAK void fw_engine_stop(struct fw_engine *e, struct fw_job *job)
{
	(void)e;
	(void)job;
}

WEAK int fw_file_open(const char *dir, const char *sha256, struct fw_file **out)
{
	(void)dir;
	(void)sha256;
	*out = NULL;
	return -ENOSYS;
}

WEAK void fw_file_release(struct fw_file *f)
{
	(void)f;
}

WEAK int store_fw_package_get(struct store *s, const char *project_id,
			      const char *package_id, struct store_fw_package *out)
{
	(void)s;
	(void)project_id;
	(void)package_id;
	(void)out;
	return -ENOSYS;
}
