/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Freezes the filter ABI 1.x (1.0, plus what 1.1 appended): the size and every field offset of
 * every struct that crosses between sluice and a filter module, on LP64 Linux (x86-64, aarch64). A
 * reordered, resized or inserted field fails this build. Appending to a struct in a later 1.x minor
 * changes only its SLUICE_SIZE line (the size grows; no offset below moves) plus new SLUICE_LAYOUT
 * lines. Compiled as C11 here and as C++20 by abi_layout_test.cc, and run by CTest (its main checks
 * the constants and the SLUICE_HOST_HAS macro at run time too).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sluice/filter.h>

#ifdef __cplusplus
#define SLUICE_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define SLUICE_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

#define SLUICE_SIZE(T, n) SLUICE_STATIC_ASSERT(sizeof(T) == (n), "sizeof(" #T ") changed")
#define SLUICE_LAYOUT(T, f, n) \
  SLUICE_STATIC_ASSERT(offsetof(T, f) == (n), "offsetof(" #T ", " #f ") changed")

SLUICE_STATIC_ASSERT(sizeof(void*) == 8 && sizeof(size_t) == 8, "the frozen layout is LP64");
SLUICE_STATIC_ASSERT(sizeof(sluice_status) == 4, "sluice_status is 32 bits");
SLUICE_STATIC_ASSERT(sizeof(sluice_action) == 4, "sluice_action is 32 bits");
SLUICE_STATIC_ASSERT(sizeof(sluice_info) == 4, "sluice_info is 32 bits");
SLUICE_STATIC_ASSERT(SLUICE_ABI_VERSION_MAJOR == 1, "a major bump renames the entry symbol");

/* Constants are never renumbered. */
SLUICE_STATIC_ASSERT(SLUICE_OK == 0 && SLUICE_ERR_NOT_FOUND == -1 && SLUICE_ERR_INVALID == -2 &&
                         SLUICE_ERR_WRONG_PHASE == -3 && SLUICE_ERR_WRONG_THREAD == -4 &&
                         SLUICE_ERR_LIMIT == -5 && SLUICE_ERR_NO_MEMORY == -6 &&
                         SLUICE_ERR_UNSUPPORTED == -7 && SLUICE_ERR_GONE == -8 &&
                         SLUICE_ERR_REJECTED == -9 && SLUICE_ERR_INTERNAL == -10,
                     "status values");
SLUICE_STATIC_ASSERT(SLUICE_ACTION_CONTINUE == 0 && SLUICE_ACTION_STOP == 1 &&
                         SLUICE_ACTION_PAUSE == 2 && SLUICE_ACTION_BUFFER == 3,
                     "action values");
SLUICE_STATIC_ASSERT(SLUICE_MAP_REQUEST == 0 && SLUICE_MAP_RESPONSE == 1, "map values");
SLUICE_STATIC_ASSERT(SLUICE_LOG_DEBUG == 0 && SLUICE_LOG_INFO == 1 && SLUICE_LOG_WARN == 2 &&
                         SLUICE_LOG_ERROR == 3,
                     "log levels");
SLUICE_STATIC_ASSERT(SLUICE_METRIC_COUNTER == 0 && SLUICE_METRIC_GAUGE == 1 &&
                         SLUICE_METRIC_HISTOGRAM == 2,
                     "metric kinds");
SLUICE_STATIC_ASSERT(SLUICE_INFO_METHOD == 0 && SLUICE_INFO_PATH == 1 && SLUICE_INFO_QUERY == 2 &&
                         SLUICE_INFO_HOST == 3 && SLUICE_INFO_SCHEME == 4 &&
                         SLUICE_INFO_CLIENT_ADDRESS == 5 && SLUICE_INFO_ROUTE_ID == 6 &&
                         SLUICE_INFO_ROUTE_NAME == 7 && SLUICE_INFO_SERVICE_ID == 8 &&
                         SLUICE_INFO_SERVICE_NAME == 9 && SLUICE_INFO_CONSUMER_ID == 10 &&
                         SLUICE_INFO_CONSUMER_USERNAME == 11 &&
                         SLUICE_INFO_CONSUMER_CUSTOM_ID == 12 && SLUICE_INFO_REQUEST_ID == 13 &&
                         SLUICE_INFO_TARGET == 14 && SLUICE_INFO_CLIENT_PORT == 100 &&
                         SLUICE_INFO_RESPONSE_STATUS == 101 && SLUICE_INFO_START_TIME_MS == 102 &&
                         SLUICE_INFO_WORKER_INDEX == 103,
                     "info ids");
SLUICE_STATIC_ASSERT(SLUICE_CAP_REQUEST_BODY == 1 && SLUICE_CAP_RESPONSE_BODY == 2,
                     "capability bits");

SLUICE_SIZE(sluice_str, 16);
SLUICE_LAYOUT(sluice_str, data, 0);
SLUICE_LAYOUT(sluice_str, len, 8);

SLUICE_SIZE(sluice_header, 32);
SLUICE_LAYOUT(sluice_header, name, 0);
SLUICE_LAYOUT(sluice_header, value, 16);

SLUICE_SIZE(sluice_metric_desc, 72);
SLUICE_LAYOUT(sluice_metric_desc, struct_size, 0);
SLUICE_LAYOUT(sluice_metric_desc, kind, 4);
SLUICE_LAYOUT(sluice_metric_desc, name, 8);
SLUICE_LAYOUT(sluice_metric_desc, help, 24);
SLUICE_LAYOUT(sluice_metric_desc, label_names, 40);
SLUICE_LAYOUT(sluice_metric_desc, label_count, 48);
SLUICE_LAYOUT(sluice_metric_desc, buckets, 56);
SLUICE_LAYOUT(sluice_metric_desc, bucket_count, 64);

SLUICE_SIZE(sluice_http_request, 88);
SLUICE_LAYOUT(sluice_http_request, struct_size, 0);
SLUICE_LAYOUT(sluice_http_request, timeout_ms, 4);
SLUICE_LAYOUT(sluice_http_request, service, 8);
SLUICE_LAYOUT(sluice_http_request, method, 24);
SLUICE_LAYOUT(sluice_http_request, path, 40);
SLUICE_LAYOUT(sluice_http_request, headers, 56);
SLUICE_LAYOUT(sluice_http_request, header_count, 64);
SLUICE_LAYOUT(sluice_http_request, body, 72);

SLUICE_SIZE(sluice_http_response, 40);
SLUICE_LAYOUT(sluice_http_response, struct_size, 0);
SLUICE_LAYOUT(sluice_http_response, status, 4);
SLUICE_LAYOUT(sluice_http_response, headers, 8);
SLUICE_LAYOUT(sluice_http_response, header_count, 16);
SLUICE_LAYOUT(sluice_http_response, body, 24);

SLUICE_SIZE(sluice_tcp_callbacks, 32);
SLUICE_LAYOUT(sluice_tcp_callbacks, struct_size, 0);
SLUICE_LAYOUT(sluice_tcp_callbacks, reserved0, 4);
SLUICE_LAYOUT(sluice_tcp_callbacks, on_connect, 8);
SLUICE_LAYOUT(sluice_tcp_callbacks, on_read, 16);
SLUICE_LAYOUT(sluice_tcp_callbacks, on_close, 24);

SLUICE_SIZE(sluice_filter_descriptor, 144);
SLUICE_LAYOUT(sluice_filter_descriptor, struct_size, 0);
SLUICE_LAYOUT(sluice_filter_descriptor, abi_major, 4);
SLUICE_LAYOUT(sluice_filter_descriptor, abi_minor, 6);
SLUICE_LAYOUT(sluice_filter_descriptor, name, 8);
SLUICE_LAYOUT(sluice_filter_descriptor, version, 24);
SLUICE_LAYOUT(sluice_filter_descriptor, priority, 40);
SLUICE_LAYOUT(sluice_filter_descriptor, reserved0, 44);
SLUICE_LAYOUT(sluice_filter_descriptor, capabilities, 48);
SLUICE_LAYOUT(sluice_filter_descriptor, on_config_new, 56);
SLUICE_LAYOUT(sluice_filter_descriptor, on_config_destroy, 64);
SLUICE_LAYOUT(sluice_filter_descriptor, on_worker_new, 72);
SLUICE_LAYOUT(sluice_filter_descriptor, on_worker_destroy, 80);
SLUICE_LAYOUT(sluice_filter_descriptor, on_request_new, 88);
SLUICE_LAYOUT(sluice_filter_descriptor, on_request_destroy, 96);
SLUICE_LAYOUT(sluice_filter_descriptor, on_request_headers, 104);
SLUICE_LAYOUT(sluice_filter_descriptor, on_request_body, 112);
SLUICE_LAYOUT(sluice_filter_descriptor, on_response_headers, 120);
SLUICE_LAYOUT(sluice_filter_descriptor, on_response_body, 128);
SLUICE_LAYOUT(sluice_filter_descriptor, on_log, 136);

SLUICE_SIZE(sluice_host_api, 352);
SLUICE_LAYOUT(sluice_host_api, struct_size, 0);
SLUICE_LAYOUT(sluice_host_api, abi_major, 4);
SLUICE_LAYOUT(sluice_host_api, abi_minor, 6);
SLUICE_LAYOUT(sluice_host_api, host_version, 8);
SLUICE_LAYOUT(sluice_host_api, config_error, 24);
SLUICE_LAYOUT(sluice_host_api, metric_define, 32);
SLUICE_LAYOUT(sluice_host_api, log_enabled, 40);
SLUICE_LAYOUT(sluice_host_api, log, 48);
SLUICE_LAYOUT(sluice_host_api, request_info, 56);
SLUICE_LAYOUT(sluice_host_api, request_info_int, 64);
SLUICE_LAYOUT(sluice_host_api, header_get, 72);
SLUICE_LAYOUT(sluice_host_api, header_count, 80);
SLUICE_LAYOUT(sluice_host_api, header_at, 88);
SLUICE_LAYOUT(sluice_host_api, header_set, 96);
SLUICE_LAYOUT(sluice_host_api, header_add, 104);
SLUICE_LAYOUT(sluice_host_api, header_remove, 112);
SLUICE_LAYOUT(sluice_host_api, upstream_path_set, 120);
SLUICE_LAYOUT(sluice_host_api, upstream_query_set, 128);
SLUICE_LAYOUT(sluice_host_api, body_get, 136);
SLUICE_LAYOUT(sluice_host_api, body_replace, 144);
SLUICE_LAYOUT(sluice_host_api, send_local_reply, 152);
SLUICE_LAYOUT(sluice_host_api, arena_alloc, 160);
SLUICE_LAYOUT(sluice_host_api, consumer_set, 168);
SLUICE_LAYOUT(sluice_host_api, metric_add, 176);
SLUICE_LAYOUT(sluice_host_api, metric_set, 184);
SLUICE_LAYOUT(sluice_host_api, metric_observe, 192);
SLUICE_LAYOUT(sluice_host_api, shared_counter_add, 200);
SLUICE_LAYOUT(sluice_host_api, request_worker, 208);
SLUICE_LAYOUT(sluice_host_api, request_resume, 216);
SLUICE_LAYOUT(sluice_host_api, request_ref_new, 224);
SLUICE_LAYOUT(sluice_host_api, request_ref_resume, 232);
SLUICE_LAYOUT(sluice_host_api, request_ref_post, 240);
SLUICE_LAYOUT(sluice_host_api, request_ref_release, 248);
SLUICE_LAYOUT(sluice_host_api, timer_start, 256);
SLUICE_LAYOUT(sluice_host_api, timer_cancel, 264);
SLUICE_LAYOUT(sluice_host_api, http_call, 272);
SLUICE_LAYOUT(sluice_host_api, http_call_cancel, 280);
SLUICE_LAYOUT(sluice_host_api, tcp_connect, 288);
SLUICE_LAYOUT(sluice_host_api, tcp_write, 296);
SLUICE_LAYOUT(sluice_host_api, tcp_close, 304);
/* 1.1 */
SLUICE_LAYOUT(sluice_host_api, credentials_get, 312);
SLUICE_LAYOUT(sluice_host_api, credential_set, 320);
SLUICE_LAYOUT(sluice_host_api, upstream_health_list, 328);
SLUICE_LAYOUT(sluice_host_api, upstream_method_set, 336);
SLUICE_LAYOUT(sluice_host_api, uri_capture_get, 344);

SLUICE_SIZE(sluice_target_health, 72);
SLUICE_LAYOUT(sluice_target_health, struct_size, 0);
SLUICE_LAYOUT(sluice_target_health, upstream, 8);
SLUICE_LAYOUT(sluice_target_health, target, 24);
SLUICE_LAYOUT(sluice_target_health, address, 40);
SLUICE_LAYOUT(sluice_target_health, state, 56);

/* A host table that ends before timer_start: what a filter sees from an older host. */
static int check_host_has(void) {
  sluice_host_api api;
  int failures = 0;
  memset(&api, 0, sizeof api);
  api.struct_size = (uint32_t)offsetof(sluice_host_api, timer_start);
  api.request_resume = (sluice_status(*)(sluice_request*))(uintptr_t)1;
  api.timer_start = (sluice_status(*)(sluice_worker*, uint64_t, uint64_t, sluice_timer_fn, void*,
                                      sluice_timer**))(uintptr_t)1;
  if (!SLUICE_HOST_HAS(&api, request_resume))
    failures++; /* present and set */
  if (SLUICE_HOST_HAS(&api, request_worker))
    failures++; /* present but NULL */
  if (SLUICE_HOST_HAS(&api, timer_start))
    failures++; /* past struct_size */
  if (SLUICE_HOST_HAS((const sluice_host_api*)NULL, log))
    failures++;
  return failures;
}

int main(void) {
  int failures = check_host_has();
  if (failures != 0) {
    printf("SLUICE_HOST_HAS: %d wrong answers\n", failures);
    return 1;
  }
  printf("abi layout: ok (%s)\n", SLUICE_FILTER_ENTRY_SYMBOL);
  return 0;
}
