/*
 * metrics_process: the process's CPU, memory, descriptors and start time, and the build's
 * versions, in the Prometheus text format (GET /metrics).
 */
#ifndef LWM2MD_METRICS_PROCESS_H
#define LWM2MD_METRICS_PROCESS_H

#include <stdio.h>

void metrics_process_write(FILE *out);

#endif
