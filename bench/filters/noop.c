/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A filter that does nothing: its request-headers, response-headers and log hooks return at
 * once. Built five times (noop-1 ... noop-5) so bench/wrk/run.sh can measure what the filter
 * chain itself costs per request. Plain C against the SDK header only; takes the config "{}".
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <sluice/filter.h>

#ifndef NOOP_NAME
#define NOOP_NAME "noop"
#endif
#ifndef NOOP_PRIORITY
#define NOOP_PRIORITY 100
#endif

static sluice_str str(const char* s) {
  sluice_str r;
  r.data = s;
  r.len = strlen(s);
  return r;
}

/* No config to keep: every instance shares this one static byte. */
static char no_config;

static sluice_status on_config_new(sluice_instance* inst, sluice_str json, void** out) {
  (void)inst;
  (void)json;
  *out = &no_config;
  return SLUICE_OK;
}

static void on_config_destroy(void* config) { (void)config; }

static sluice_action on_headers(sluice_request* req, void* config, void* state, bool eos) {
  (void)req;
  (void)config;
  (void)state;
  (void)eos;
  return SLUICE_ACTION_CONTINUE;
}

static void on_log(sluice_request* req, void* config, void* state) {
  (void)req;
  (void)config;
  (void)state;
}

SLUICE_EXPORT const sluice_filter_descriptor* sluice_filter_module_v1(const sluice_host_api* host) {
  static sluice_filter_descriptor d;
  (void)host;
  d.struct_size = sizeof d;
  d.abi_major = SLUICE_ABI_VERSION_MAJOR;
  d.abi_minor = SLUICE_ABI_VERSION_MINOR;
  d.name = str(NOOP_NAME);
  d.version = str("1.0.0");
  d.priority = NOOP_PRIORITY;
  d.on_config_new = on_config_new;
  d.on_config_destroy = on_config_destroy;
  d.on_request_headers = on_headers;
  d.on_response_headers = on_headers;
  d.on_log = on_log;
  return &d;
}
