/*
 * sim_usage: prints the simulator's usage to stderr.
 */
#ifndef LWM2M_SIM_USAGE_H
#define LWM2M_SIM_USAGE_H

void sim_usage(void);

#endif
