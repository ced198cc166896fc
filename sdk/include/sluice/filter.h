/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sluice filter ABI: the one contract between the gateway and a filter shared object.
 * Plain C11 that also compiles as C++. This header is the specification; sdk/README.md explains
 * it for filter authors and tests/sdk/abi_layout_test.c freezes every layout below.
 *
 * Words used in every comment:
 *   borrowed       valid until the call or hook that handed it over returns; never freed by the
 *                  receiver. Views into header maps are also invalidated by a write to that map.
 *   request-owned  freed by the host when the request ends (after on_request_destroy).
 *   filter-owned   allocated and freed by the filter; the host only passes the pointer around.
 *   process-owned  created by the host at start-up and valid until the process exits.
 * Threads:
 *   main           the thread that loads modules and builds configs (config and reload time).
 *   worker         the worker thread that owns the request, worker or socket in question.
 *   any            any thread, including threads the filter starts itself.
 * Phases (where request callbacks are legal) name the hooks during which, or after whose PAUSE
 * (in a callback on the same worker), a call may be made.
 *
 * Versioning (1.0 is frozen; see the changelog at the end of this file):
 *   - The major version is part of the entry symbol's name (sluice_filter_module_v1). A host
 *     refuses a module whose descriptor names another major, saying which file and both versions.
 *   - Every struct that crosses starts with `struct_size` and only grows at its end. A reader
 *     never reads a field past the struct_size it was given. Views (sluice_str, sluice_header)
 *     are two-word values frozen forever and carry no size.
 *   - Hooks and host callbacks added by a later minor are optional: a NULL hook gets the default
 *     behaviour, and a filter checks SLUICE_HOST_HAS(host, field) before calling a callback that
 *     is newer than 1.0 or that a host may leave out (marked "optional" below).
 *   - A host loads modules built for its own or an older minor of its major; a module built
 *     against a newer minor is refused (it may rely on hooks this host would never call).
 *   - Constants are never renumbered or reused. Numeric types in the ABI have fixed widths.
 */
#ifndef SLUICE_FILTER_H_
#define SLUICE_FILTER_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Versions and helpers                                                                        */
/* ------------------------------------------------------------------------------------------ */

/** ABI major version: changes only on an incompatible change, and renames the entry symbol. */
#define SLUICE_ABI_VERSION_MAJOR 1
/** ABI minor version: bumped whenever a field, hook, callback or constant is appended. */
#define SLUICE_ABI_VERSION_MINOR 1

/** Name of the one symbol a filter module exports, as the host passes it to dlsym. */
#define SLUICE_FILTER_ENTRY_SYMBOL "sluice_filter_module_v1"

/**
 * Marks the one symbol a module exports. Filters build with -fvisibility=hidden, so nothing
 * else leaves the shared object.
 */
#if defined(__GNUC__) || defined(__clang__)
#define SLUICE_EXPORT __attribute__((visibility("default")))
#else
#define SLUICE_EXPORT
#endif

/**
 * True when the table `api` (a pointer to a struct starting with struct_size) is long enough to
 * hold `field` and that field is not NULL. Use it before calling any optional host callback.
 * Evaluates `api` several times; `api` may be NULL (then false).
 */
#define SLUICE_HOST_HAS(api, field)                                                         \
  ((api) != NULL &&                                                                         \
   (size_t)(api)->struct_size >= offsetof(sluice_host_api, field) + sizeof((api)->field) && \
   (api)->field != NULL)

/* ------------------------------------------------------------------------------------------ */
/* Scalar types and constants                                                                  */
/* ------------------------------------------------------------------------------------------ */

/** Result of a host callback: SLUICE_OK (0) or one of the negative SLUICE_ERR_* values. */
typedef int32_t sluice_status;

enum {
  SLUICE_OK = 0,                /**< done */
  SLUICE_ERR_NOT_FOUND = -1,    /**< no such header, consumer, service, info item, ... */
  SLUICE_ERR_INVALID = -2,      /**< an argument is malformed (NULL handle, bad name, ...) */
  SLUICE_ERR_WRONG_PHASE = -3,  /**< not legal in the phase the request is in */
  SLUICE_ERR_WRONG_THREAD = -4, /**< called from a thread that does not own the handle */
  SLUICE_ERR_LIMIT = -5,        /**< a host limit (body buffer, series per metric, ...) */
  SLUICE_ERR_NO_MEMORY = -6,    /**< allocation failed */
  SLUICE_ERR_UNSUPPORTED = -7,  /**< this host does not offer the operation */
  SLUICE_ERR_GONE = -8,         /**< the request or connection has already ended */
  SLUICE_ERR_REJECTED = -9,     /**< (from hooks) the config or state was refused */
  SLUICE_ERR_INTERNAL = -10     /**< anything else; the host logged the details */
};

/**
 * Result of a request hook.
 *   CONTINUE  go on with the next filter.
 *   STOP      this filter sent a local reply (send_local_reply); later request-side filters are
 *             skipped and the reply goes through the response hooks. STOP without a reply is
 *             answered with 500.
 *   PAUSE     wait: the filter will call request_resume (on the worker) or request_ref_resume
 *             (any thread), or send a local reply, later. Legal in on_request_headers,
 *             on_request_body and on_response_headers.
 *   BUFFER    body hooks only: keep this chunk and call the hook again with everything received
 *             so far when more arrives; at end_of_stream the hook sees the whole body, bounded by
 *             the host's body buffer limit (over it: 413 for requests, 500 for responses).
 * Any other value is treated as a filter failure (logged, answered with 500).
 */
typedef int32_t sluice_action;

enum {
  SLUICE_ACTION_CONTINUE = 0,
  SLUICE_ACTION_STOP = 1,
  SLUICE_ACTION_PAUSE = 2,
  SLUICE_ACTION_BUFFER = 3
};

/** Which header map a header callback works on. */
typedef int32_t sluice_header_map;

enum {
  SLUICE_MAP_REQUEST = 0, /**< the request headers (what the upstream will receive) */
  SLUICE_MAP_RESPONSE = 1 /**< the response headers (what the client will receive) */
};

/** Log levels, lowest first. */
typedef int32_t sluice_log_level;

enum { SLUICE_LOG_DEBUG = 0, SLUICE_LOG_INFO = 1, SLUICE_LOG_WARN = 2, SLUICE_LOG_ERROR = 3 };

/** Kinds of metric a filter may define. */
typedef int32_t sluice_metric_kind;

enum {
  SLUICE_METRIC_COUNTER = 0,  /**< monotonic; recorded with metric_add (delta >= 0) */
  SLUICE_METRIC_GAUGE = 1,    /**< recorded with metric_add or metric_set */
  SLUICE_METRIC_HISTOGRAM = 2 /**< recorded with metric_observe */
};

/**
 * Facts about a request, read with request_info (text ids below 100) or request_info_int
 * (integer ids from 100). Asking for an id with the wrong callback gives SLUICE_ERR_INVALID; an
 * id this host does not know, or a fact the request does not have (no route, no consumer yet),
 * gives SLUICE_ERR_NOT_FOUND.
 */
typedef int32_t sluice_info;

enum {
  SLUICE_INFO_METHOD = 0,         /**< "GET", "POST", ... */
  SLUICE_INFO_PATH = 1,           /**< normalised path, without the query */
  SLUICE_INFO_QUERY = 2,          /**< raw query after '?', without it; "" when none */
  SLUICE_INFO_HOST = 3,           /**< requested host name, lower-case, without the port */
  SLUICE_INFO_SCHEME = 4,         /**< "http" or "https" */
  SLUICE_INFO_CLIENT_ADDRESS = 5, /**< client IP as text */
  SLUICE_INFO_ROUTE_ID = 6,       /**< matched route's id */
  SLUICE_INFO_ROUTE_NAME = 7,     /**< matched route's name; NOT_FOUND when it has none */
  SLUICE_INFO_SERVICE_ID = 8,     /**< the route's service id */
  SLUICE_INFO_SERVICE_NAME = 9,   /**< the route's service name */
  SLUICE_INFO_CONSUMER_ID = 10,   /**< consumer set by consumer_set; NOT_FOUND before */
  SLUICE_INFO_CONSUMER_USERNAME = 11,
  SLUICE_INFO_CONSUMER_CUSTOM_ID = 12,
  SLUICE_INFO_REQUEST_ID = 13,       /**< the id also sent in the request-id header */
  SLUICE_INFO_TARGET = 14,           /**< the request target exactly as received */
  SLUICE_INFO_CREDENTIAL_ID = 15,    /**< 1.1: credential set by credential_set; NOT_FOUND before */
  SLUICE_INFO_CLIENT_PORT = 100,     /**< client TCP port */
  SLUICE_INFO_RESPONSE_STATUS = 101, /**< response status; NOT_FOUND before response headers */
  SLUICE_INFO_START_TIME_MS = 102,   /**< when the request began, Unix time in milliseconds */
  SLUICE_INFO_WORKER_INDEX = 103,    /**< 0-based index of the request's worker */
  /* 1.1; a 1.0 host answers NOT_FOUND. Final values in on_log, running totals before. */
  SLUICE_INFO_REQUEST_BYTES = 104,  /**< bytes received from the client (head and body) */
  SLUICE_INFO_RESPONSE_BYTES = 105, /**< bytes sent to the client (head and body) */
  SLUICE_INFO_UPSTREAM_LATENCY_MS =
      106, /**< connect to upstream until its response head; NOT_FOUND without one */
  SLUICE_INFO_PROXY_LATENCY_MS = 107, /**< time the gateway itself spent (Kong's kong latency) */
  SLUICE_INFO_REQUEST_LATENCY_MS =
      108 /**< first request byte until the last response byte (on_log) */
};

/** Capability bits of a descriptor (sluice_filter_descriptor.capabilities). */
#define SLUICE_CAP_REQUEST_BODY ((uint64_t)1 << 0)  /**< call on_request_body */
#define SLUICE_CAP_RESPONSE_BODY ((uint64_t)1 << 1) /**< call on_response_body */

/* ------------------------------------------------------------------------------------------ */
/* Views                                                                                       */
/* ------------------------------------------------------------------------------------------ */

/**
 * Bytes that cross the ABI: `len` bytes at `data`, not NUL-terminated by contract (data may be
 * NULL when len is 0). Who owns them is stated at each use. Frozen: 16 bytes on LP64.
 */
typedef struct sluice_str {
  const char* data;
  size_t len;
} sluice_str;

/** One header field: two views. Frozen: 32 bytes on LP64. */
typedef struct sluice_header {
  sluice_str name;
  sluice_str value;
} sluice_header;

/* ------------------------------------------------------------------------------------------ */
/* Opaque handles (owned by the host; never defined, never freed by a filter)                  */
/* ------------------------------------------------------------------------------------------ */

/** One configured plugin instance, as the host tracks it. Main thread; lives as long as it. */
typedef struct sluice_instance sluice_instance;
/** One worker thread and its event loop. Valid from on_worker_new to on_worker_destroy. */
typedef struct sluice_worker sluice_worker;
/**
 * One request as one filter sees it (each filter of a chain gets its own handle, so the host
 * knows who calls). Valid on its worker from on_request_new until on_request_destroy returns.
 */
typedef struct sluice_request sluice_request;
/** A thread-safe, reference-counted pointer to a request that may already have ended. */
typedef struct sluice_request_ref sluice_request_ref;
/** A metric defined by metric_define. Process-owned. */
typedef struct sluice_metric sluice_metric;
/** A worker timer. */
typedef struct sluice_timer sluice_timer;
/** An HTTP call in flight. */
typedef struct sluice_http_call sluice_http_call;
/** A TCP connection made by the host for a filter. */
typedef struct sluice_tcp sluice_tcp;

/* ------------------------------------------------------------------------------------------ */
/* Structs the filter fills for the host                                                       */
/* ------------------------------------------------------------------------------------------ */

/**
 * A metric definition, passed to metric_define. Borrowed: the host copies what it keeps.
 * Set struct_size to sizeof(sluice_metric_desc).
 */
typedef struct sluice_metric_desc {
  uint32_t struct_size;
  sluice_metric_kind kind;
  sluice_str name;               /**< Prometheus name, e.g. "kong_http_requests_total" */
  sluice_str help;               /**< the # HELP text */
  const sluice_str* label_names; /**< label_count names; NULL when label_count is 0 */
  size_t label_count;
  const double* buckets; /**< histogram upper bounds, ascending; NULL: host default */
  size_t bucket_count;
} sluice_metric_desc;

/**
 * An HTTP request to one of the configured services, passed to http_call. Borrowed: the host
 * copies everything before http_call returns. Set struct_size to sizeof(sluice_http_request).
 */
typedef struct sluice_http_request {
  uint32_t struct_size;
  uint32_t timeout_ms; /**< 0: the service's read timeout */
  sluice_str service;  /**< a service `name` from the config */
  sluice_str method;   /**< e.g. "GET" */
  sluice_str path;     /**< path and query, e.g. "/keys?kid=1" */
  /**
   * header_count fields. Host (the service's), Content-Length, Transfer-Encoding and Connection
   * are set by the host; fields of those names given here are dropped.
   */
  const sluice_header* headers;
  size_t header_count;
  sluice_str body;
} sluice_http_request;

/**
 * The response to an http_call, handed to its completion function. Borrowed (valid until that
 * function returns). `headers` are the final response's fields in wire order (NULL when
 * header_count is 0); `body` is the whole body with any chunked framing removed.
 */
typedef struct sluice_http_response {
  uint32_t struct_size;
  int32_t status;
  const sluice_header* headers;
  size_t header_count;
  sluice_str body;
} sluice_http_response;

/**
 * Completion of an http_call. Thread: the worker that made the call. `result` is SLUICE_OK
 * (then `response` is borrowed and not NULL; any HTTP status, 4xx and 5xx included) or an error
 * (`response` NULL): SLUICE_ERR_NOT_FOUND for an unknown service, SLUICE_ERR_GONE for a failed
 * connection or a malformed or cut-short response, SLUICE_ERR_LIMIT for a timeout or a response
 * over the host's limits (sluice: 8 MiB of body, 64 KiB of header fields). Not called after
 * http_call_cancel, nor from inside http_call.
 */
typedef void (*sluice_http_done_fn)(void* user_data, sluice_status result,
                                    const sluice_http_response* response);

/**
 * Event functions of a TCP connection made with tcp_connect. Borrowed by tcp_connect, which
 * copies it. All run on the worker that owns the connection. Set struct_size to
 * sizeof(sluice_tcp_callbacks).
 */
typedef struct sluice_tcp_callbacks {
  uint32_t struct_size;
  uint32_t reserved0; /**< set to 0 */
  /** The connection is up (result SLUICE_OK) or failed (an error; the handle is then gone). */
  void (*on_connect)(void* user_data, sluice_tcp* tcp, sluice_status result);
  /** Bytes arrived. `data` is borrowed. */
  void (*on_read)(void* user_data, sluice_tcp* tcp, sluice_str data);
  /**
   * The peer closed (SLUICE_OK) or the connection failed (an error). The handle is invalid
   * once this returns. Not called after tcp_close.
   */
  void (*on_close)(void* user_data, sluice_tcp* tcp, sluice_status reason);
} sluice_tcp_callbacks;

/** A timer's function. Thread: the timer's worker. */
typedef void (*sluice_timer_fn)(void* user_data);

/**
 * Work posted with request_ref_post. Thread: the request's worker. `req` is the request as the
 * posting filter sees it, or NULL when the request has ended (so user_data can be freed).
 */
typedef void (*sluice_request_fn)(sluice_request* req, void* user_data);

/**
 * One upstream target's state, handed to an upstream_health_list function (1.1). Borrowed (valid
 * until that function returns).
 */
typedef struct sluice_target_health {
  uint32_t struct_size;
  uint32_t reserved0;
  sluice_str upstream; /**< the upstream's name */
  sluice_str target;   /**< "host:port" as configured */
  sluice_str address;  /**< "ip:port" in use; empty while unresolved */
  sluice_str state;    /**< Kong's words: "healthy", "unhealthy", "dns_error", "healthchecks_off" */
} sluice_target_health;

/** Receives one target of upstream_health_list. */
typedef void (*sluice_target_health_fn)(void* user_data, const sluice_target_health* target);

/* ------------------------------------------------------------------------------------------ */
/* The host's callback table                                                                   */
/* ------------------------------------------------------------------------------------------ */

/**
 * The callbacks a host offers. Process-owned: passed to the entry symbol once, valid until the
 * process exits; a module keeps the pointer. Fields after struct_size may be absent (a host of
 * an older minor) or NULL (not offered): check with SLUICE_HOST_HAS before calling a field
 * marked optional. Unless a field says otherwise: thread worker, arguments borrowed, and a
 * `sluice_request*` of a request that ended gives undefined behaviour (use request refs).
 */
typedef struct sluice_host_api {
  uint32_t struct_size;    /**< sizeof the host's table */
  uint16_t abi_major;      /**< SLUICE_ABI_VERSION_MAJOR of the host */
  uint16_t abi_minor;      /**< SLUICE_ABI_VERSION_MINOR of the host */
  sluice_str host_version; /**< the gateway's version text; process-owned */

  /* ---- configuration (main thread, inside on_config_new) ---- */

  /**
   * Reports why a config is refused. Call it once per problem, then return
   * SLUICE_ERR_REJECTED from on_config_new. The message starts with the field path, then ": ",
   * then lower-case text without a trailing period ("config.minute: must be greater than 0";
   * "config: ..." for the whole object); the host turns the path into file:line:col.
   * @param instance the instance being configured.
   * @param message borrowed; copied.
   * @return SLUICE_OK; SLUICE_ERR_WRONG_PHASE outside on_config_new.
   * Thread: main. Phases: on_config_new.
   */
  sluice_status (*config_error)(sluice_instance* instance, sluice_str message);

  /**
   * Defines a metric, served by the host on the admin /metrics endpoint. Defining the same
   * name again with the same kind and label names (another instance of the filter) returns the
   * same metric.
   * @param instance the instance being configured.
   * @param desc borrowed; copied.
   * @param out on SLUICE_OK, the metric; process-owned.
   * @return SLUICE_OK; SLUICE_ERR_INVALID for a bad name, kind or labels, or a name already
   *         defined differently; SLUICE_ERR_WRONG_PHASE outside on_config_new.
   * Thread: main. Phases: on_config_new.
   */
  sluice_status (*metric_define)(sluice_instance* instance, const sluice_metric_desc* desc,
                                 sluice_metric** out);

  /* ---- logging (any thread) ---- */

  /**
   * @return true when a message at `level` would be written (check before formatting).
   * Thread: any.
   */
  bool (*log_enabled)(sluice_log_level level);

  /**
   * Writes one log line, prefixed with the filter name and request id when `req` is not NULL.
   * @param req the calling filter's request, or NULL outside request hooks.
   * @param message borrowed.
   * @return SLUICE_OK (also when the level is disabled); SLUICE_ERR_INVALID for a bad level.
   * Thread: any when req is NULL, else the request's worker.
   */
  sluice_status (*log)(sluice_request* req, sluice_log_level level, sluice_str message);

  /* ---- request facts ---- */

  /**
   * Reads a text fact about the request (SLUICE_INFO_* below 100).
   * @param out on SLUICE_OK, a view valid until the request ends (request-owned).
   * @return SLUICE_OK; SLUICE_ERR_NOT_FOUND when the request has no such fact;
   *         SLUICE_ERR_INVALID for an integer id.
   * Phases: every request hook, and while paused.
   */
  sluice_status (*request_info)(sluice_request* req, sluice_info info, sluice_str* out);

  /**
   * Reads an integer fact about the request (SLUICE_INFO_* from 100).
   * @param out on SLUICE_OK, the value.
   * @return SLUICE_OK; SLUICE_ERR_NOT_FOUND; SLUICE_ERR_INVALID for a text id.
   * Phases: every request hook, and while paused.
   */
  sluice_status (*request_info_int)(sluice_request* req, sluice_info info, int64_t* out);

  /* ---- headers (no copies on read; writes copy into the request arena) ---- */

  /**
   * Finds the `index`-th field (0 = first) called `name`, case-insensitively.
   * @param name borrowed.
   * @param out on SLUICE_OK, a borrowed view into host memory, valid until the hook returns or
   *        the same map is written; never freed by the filter.
   * @return SLUICE_OK or SLUICE_ERR_NOT_FOUND; SLUICE_ERR_WRONG_PHASE for the response map
   *         before response headers exist.
   * Phases: every request hook, and while paused.
   */
  sluice_status (*header_get)(sluice_request* req, sluice_header_map map, sluice_str name,
                              size_t index, sluice_str* out);

  /**
   * Counts the fields of a map (for iteration with header_at).
   * @param out on SLUICE_OK, the number of fields.
   * @return SLUICE_OK; SLUICE_ERR_WRONG_PHASE for the response map before response headers.
   * Phases: every request hook, and while paused.
   */
  sluice_status (*header_count)(sluice_request* req, sluice_header_map map, size_t* out);

  /**
   * Reads field `index` (0-based, in wire order) of a map.
   * @param out on SLUICE_OK, borrowed views as for header_get.
   * @return SLUICE_OK; SLUICE_ERR_NOT_FOUND when index >= header_count;
   *         SLUICE_ERR_WRONG_PHASE as for header_count.
   * Phases: every request hook, and while paused.
   */
  sluice_status (*header_at)(sluice_request* req, sluice_header_map map, size_t index,
                             sluice_header* out);

  /**
   * Replaces every field called `name` with one field `name: value` (appended when absent).
   * @param name, value borrowed; copied into the request arena.
   * @return SLUICE_OK; SLUICE_ERR_INVALID for an empty name or a CR, LF or NUL in either;
   *         SLUICE_ERR_WRONG_PHASE when that map can no longer change (the request map once
   *         the request headers left the chain, the response map once the response head did).
   * Phases: request map: on_request_headers; response map: on_response_headers; and while
   *         paused in those.
   */
  sluice_status (*header_set)(sluice_request* req, sluice_header_map map, sluice_str name,
                              sluice_str value);

  /**
   * Appends the field `name: value`, keeping existing fields of that name.
   * @return, Phases: as header_set.
   */
  sluice_status (*header_add)(sluice_request* req, sluice_header_map map, sluice_str name,
                              sluice_str value);

  /**
   * Removes every field called `name`.
   * @return SLUICE_OK (also when there was none); SLUICE_ERR_WRONG_PHASE as header_set.
   * Phases: as header_set.
   */
  sluice_status (*header_remove)(sluice_request* req, sluice_header_map map, sluice_str name);

  /* ---- upstream request rewrite ---- */

  /**
   * Sets the path sent upstream, replacing the one the route and service would produce.
   * @param path borrowed; copied. Must start with '/'.
   * @return SLUICE_OK; SLUICE_ERR_INVALID for a path not starting with '/' or holding '?',
   *         '#', whitespace or control bytes; SLUICE_ERR_WRONG_PHASE after the request headers
   *         left the chain.
   * Phases: on_request_headers (the upstream head is built when it leaves the chain), and
   *         while paused in it.
   */
  sluice_status (*upstream_path_set)(sluice_request* req, sluice_str path);

  /**
   * Sets the raw query sent upstream (without '?'; empty removes it).
   * @param query borrowed; copied.
   * @return SLUICE_OK; SLUICE_ERR_INVALID for '#', whitespace or control bytes;
   *         SLUICE_ERR_WRONG_PHASE as upstream_path_set.
   * Phases: as upstream_path_set.
   */
  sluice_status (*upstream_query_set)(sluice_request* req, sluice_str query);

  /* ---- body ---- */

  /**
   * Reads the body bytes the current body hook is given: the chunk, or after BUFFER everything
   * received so far.
   * @param out on SLUICE_OK, a borrowed view.
   * @return SLUICE_OK; SLUICE_ERR_WRONG_PHASE outside on_request_body / on_response_body.
   * Phases: on_request_body, on_response_body.
   */
  sluice_status (*body_get)(sluice_request* req, sluice_str* out);

  /**
   * Replaces the bytes body_get shows with `data` (what later filters and the peer receive).
   * A filter that changes a body's length removes Content-Length in its headers hook.
   * @param data borrowed; copied.
   * @return SLUICE_OK; SLUICE_ERR_LIMIT over the body buffer limit;
   *         SLUICE_ERR_WRONG_PHASE outside body hooks.
   * Phases: on_request_body, on_response_body.
   */
  sluice_status (*body_replace)(sluice_request* req, sluice_str data);

  /* ---- local reply ---- */

  /**
   * Answers the request from the gateway. The hook then returns SLUICE_ACTION_STOP; when called
   * while paused (from a callback), the pause ends with this reply on the next turn of the
   * worker's loop, and the request must not be resumed. Later request-side filters
   * are skipped; the reply passes through every filter's response hooks (Kong's order).
   * @param status 100..599.
   * @param headers header_count borrowed fields, copied; Content-Length is set by the host.
   * @param body borrowed; copied.
   * @return SLUICE_OK; SLUICE_ERR_INVALID for a bad status or header;
   *         SLUICE_ERR_WRONG_PHASE once the response head was sent, or when a reply was
   *         already sent.
   * Phases: on_request_headers, on_request_body, on_response_headers, and while paused.
   */
  sluice_status (*send_local_reply)(sluice_request* req, int32_t status,
                                    const sluice_header* headers, size_t header_count,
                                    sluice_str body);

  /* ---- request arena ---- */

  /**
   * Allocates `size` bytes aligned to `align` (a power of two up to 64) from the request's
   * arena: no free, no per-call malloc in the common case.
   * @return request-owned memory, or NULL when out of memory or for a bad `align`.
   * Phases: on_request_new to on_request_destroy.
   */
  void* (*arena_alloc)(sluice_request* req, size_t size, size_t align);

  /* ---- consumer identity ---- */

  /**
   * Sets the authenticated consumer, looked up by id, then username, then custom_id. Plugins
   * scoped to that consumer apply to the filters that run after the caller. Read it back with
   * request_info (SLUICE_INFO_CONSUMER_*).
   * @param consumer borrowed.
   * @return SLUICE_OK; SLUICE_ERR_NOT_FOUND when no consumer matches;
   *         SLUICE_ERR_WRONG_PHASE after the request headers left the chain.
   * Phases: on_request_headers, and while paused in it.
   */
  sluice_status (*consumer_set)(sluice_request* req, sluice_str consumer);

  /* ---- metrics (any thread) ---- */

  /**
   * Adds `delta` to a counter (delta >= 0) or gauge for one label combination.
   * @param label_values label_count borrowed values, in the order of the definition.
   * @return SLUICE_OK; SLUICE_ERR_INVALID for a wrong label count, a negative counter delta
   *         or a histogram; SLUICE_ERR_LIMIT past the host's series limit per metric.
   * Thread: any.
   */
  sluice_status (*metric_add)(sluice_metric* metric, const sluice_str* label_values,
                              size_t label_count, double delta);

  /**
   * Sets a gauge.
   * @return as metric_add; SLUICE_ERR_INVALID for a counter or histogram.
   * Thread: any.
   */
  sluice_status (*metric_set)(sluice_metric* metric, const sluice_str* label_values,
                              size_t label_count, double value);

  /**
   * Records one histogram sample.
   * @return as metric_add; SLUICE_ERR_INVALID for a counter or gauge.
   * Thread: any.
   */
  sluice_status (*metric_observe)(sluice_metric* metric, const sluice_str* label_values,
                                  size_t label_count, double value);

  /* ---- counters shared by all workers (local rate limiting) ---- */

  /**
   * Adds `delta` to the counter `key`, creating it at 0 when absent or expired; a new counter
   * expires `ttl_ms` later (0: never). Keys are shared by every filter: prefix them with the
   * filter name.
   * @param key borrowed; copied when the counter is created.
   * @param out_value when not NULL, the value after the addition.
   * @return SLUICE_OK; SLUICE_ERR_INVALID for an empty key; SLUICE_ERR_LIMIT when the store is
   *         full.
   * Thread: any.
   */
  sluice_status (*shared_counter_add)(sluice_str key, int64_t delta, uint64_t ttl_ms,
                                      int64_t* out_value);

  /* ---- pause, resume and cross-thread work ---- */

  /**
   * @return the worker that runs this request. Phases: all.
   */
  sluice_worker* (*request_worker)(sluice_request* req);

  /**
   * Continues a request this filter paused, with the next filter. Called inside the hook that
   * is about to return PAUSE, it takes effect when the hook returns (so synchronous completion
   * is safe); called later (a timer, an I/O callback) it takes effect on the next turn of the
   * worker's loop, so no filter is re-entered from inside its own callback.
   * @return SLUICE_OK; SLUICE_ERR_WRONG_PHASE when this filter has not paused the request.
   * Phases: while paused by this filter (and inside the pausing hook).
   */
  sluice_status (*request_resume)(sluice_request* req);

  /**
   * Makes a thread-safe reference to the request, for work that finishes on another thread.
   * @param out on SLUICE_OK, a reference the filter must release with request_ref_release.
   * @return SLUICE_OK; SLUICE_ERR_NO_MEMORY.
   * Phases: on_request_new to on_log.
   */
  sluice_status (*request_ref_new)(sluice_request* req, sluice_request_ref** out);

  /**
   * Queues request_resume on the request's worker. Dropped if the request ended or was not
   * paused by this filter by then.
   * @return SLUICE_OK when queued; SLUICE_ERR_GONE when the worker has stopped.
   * Thread: any.
   */
  sluice_status (*request_ref_resume)(sluice_request_ref* ref);

  /**
   * Queues `fn(req, user_data)` on the request's worker; `req` is NULL there if the request
   * has ended. `fn` runs exactly once either way (unless the worker has stopped).
   * @return SLUICE_OK when queued; SLUICE_ERR_GONE when the worker has stopped (fn never runs).
   * Thread: any.
   */
  sluice_status (*request_ref_post)(sluice_request_ref* ref, sluice_request_fn fn, void* user_data);

  /**
   * Drops a reference from request_ref_new. The handle is invalid afterwards.
   * @return SLUICE_OK. Thread: any.
   */
  sluice_status (*request_ref_release)(sluice_request_ref* ref);

  /* ---- timers (optional) ---- */

  /**
   * Starts a timer on a worker: `fn(user_data)` runs after `delay_ms`, then every `repeat_ms`
   * (0: once). A one-shot timer's handle is invalid once fn returns.
   * @param out on SLUICE_OK, the timer (cancel it before user_data dies).
   * @return SLUICE_OK; SLUICE_ERR_INVALID for a NULL fn; SLUICE_ERR_NO_MEMORY.
   * Thread: the worker. Phases: on_worker_new to on_worker_destroy.
   */
  sluice_status (*timer_start)(sluice_worker* worker, uint64_t delay_ms, uint64_t repeat_ms,
                               sluice_timer_fn fn, void* user_data, sluice_timer** out);

  /**
   * Stops a timer; fn will not run again. The handle is invalid afterwards.
   * @return SLUICE_OK; SLUICE_ERR_WRONG_THREAD off the timer's worker.
   * Thread: the timer's worker.
   */
  sluice_status (*timer_cancel)(sluice_timer* timer);

  /* ---- async HTTP call to a configured service (optional) ---- */

  /**
   * Sends an HTTP/1.1 request to a service of the config (its address and Host as the gateway
   * resolved them), on a connection of its own, without blocking the worker. One timeout covers
   * connecting, writing and reading: request->timeout_ms, else the service's read timeout.
   * @param request borrowed; copied.
   * @param done runs once on this worker, on a later turn of its loop, unless cancelled.
   * @param out on SLUICE_OK, the call (invalid once done returns or after http_call_cancel);
   *        untouched otherwise.
   * @return SLUICE_OK; SLUICE_ERR_NOT_FOUND for an unknown service (done never runs);
   *         SLUICE_ERR_INVALID for a NULL argument, a method that is not a token, a path not
   *         starting with '/' or holding whitespace, control bytes or '#', or a bad header name
   *         or value (CR, LF or NUL); SLUICE_ERR_WRONG_THREAD off the worker.
   * Thread: the worker. A call still in flight when the worker stops is dropped without done:
   * cancel calls in on_request_destroy or on_worker_destroy.
   */
  sluice_status (*http_call)(sluice_worker* worker, const sluice_http_request* request,
                             sluice_http_done_fn done, void* user_data, sluice_http_call** out);

  /**
   * Cancels a call; done will not run. The handle is invalid afterwards. Inside the call's own
   * done it is a no-op.
   * @return SLUICE_OK; SLUICE_ERR_WRONG_THREAD off the call's worker. Thread: the worker.
   */
  sluice_status (*http_call_cancel)(sluice_http_call* call);

  /* ---- async TCP (optional; e.g. Redis) ---- */

  /**
   * Opens a TCP connection without blocking; the result comes to callbacks->on_connect.
   * @param host borrowed: an IP address or a name (resolved asynchronously).
   * @param callbacks borrowed; copied. on_connect, on_read and on_close must not be NULL.
   * @param out on SLUICE_OK, the connection (filter must tcp_close it or see on_close).
   * @return SLUICE_OK; SLUICE_ERR_INVALID; SLUICE_ERR_NO_MEMORY.
   * Thread: the worker.
   */
  sluice_status (*tcp_connect)(sluice_worker* worker, sluice_str host, uint16_t port,
                               const sluice_tcp_callbacks* callbacks, void* user_data,
                               sluice_tcp** out);

  /**
   * Queues bytes for sending (legal before on_connect: they leave once connected).
   * @param data borrowed; copied.
   * @return SLUICE_OK; SLUICE_ERR_GONE after on_close.
   * Thread: the connection's worker.
   */
  sluice_status (*tcp_write)(sluice_tcp* tcp, sluice_str data);

  /**
   * Closes the connection; no callback runs afterwards and the handle is invalid.
   * @return SLUICE_OK. Thread: the connection's worker.
   */
  sluice_status (*tcp_close)(sluice_tcp* tcp);

  /* ---- 1.1: credentials, and the state of upstream targets (optional) ---- */

  /**
   * Reads the credentials of one kind that the config's consumers hold, for an auth filter to
   * index at config time, as a JSON array text. Each element is the credential's fields as
   * written in the file (for "jwt_secrets": id, key, secret, rsa_public_key, algorithm) plus
   * "consumer": {"id", "username", "custom_id"} of its owner.
   * @param kind borrowed, e.g. "jwt_secrets".
   * @param out on SLUICE_OK, a view valid until on_config_new returns (NUL follows the text).
   * @return SLUICE_OK ("[]" when no consumer has any); SLUICE_ERR_NOT_FOUND for a kind this
   *         host does not know; SLUICE_ERR_WRONG_PHASE outside on_config_new.
   * Thread: main. Phases: on_config_new.
   */
  sluice_status (*credentials_get)(sluice_instance* instance, sluice_str kind,
                                   sluice_str* out_json);

  /**
   * Records which credential authenticated the request (what Kong's limit_by credential and
   * X-Credential-Identifier use). Read it back with SLUICE_INFO_CREDENTIAL_ID.
   * @param credential borrowed; copied into the request arena.
   * @return SLUICE_OK; SLUICE_ERR_WRONG_PHASE after the request headers left the chain.
   * Phases: as consumer_set.
   */
  sluice_status (*credential_set)(sluice_request* req, sluice_str credential);

  /**
   * Calls `fn` once per target of every upstream (in config order), with its current state.
   * @return SLUICE_OK; SLUICE_ERR_INVALID for a NULL fn.
   * Thread: any (for example a filter's timer, before exporting gauges).
   */
  sluice_status (*upstream_health_list)(sluice_target_health_fn fn, void* user_data);

  /**
   * Sets the method sent upstream (Kong's request-transformer http_method). The request line
   * changes; headers and body stay as they are.
   * @param method borrowed; copied. An RFC 9110 token, e.g. "POST".
   * @return SLUICE_OK; SLUICE_ERR_INVALID for an empty or non-token method, or "HEAD" (a
   *         bodiless answer the client did not ask for);
   *         SLUICE_ERR_WRONG_PHASE as upstream_path_set.
   * Phases: as upstream_path_set.
   */
  sluice_status (*upstream_method_set)(sluice_request* req, sluice_str method);

  /**
   * Reads a capture of the route's regex or template path (Kong's uri_captures): by group
   * name, or by number ("1" is the first group; "0" the whole matched path).
   * @param name borrowed.
   * @param out on SLUICE_OK, a view valid for the request (empty when the group took no part).
   * @return SLUICE_OK; SLUICE_ERR_NOT_FOUND when the route has no such capture.
   * Phases: any of the request's hooks.
   */
  sluice_status (*uri_capture_get)(sluice_request* req, sluice_str name, sluice_str* out);
} sluice_host_api;

/* ------------------------------------------------------------------------------------------ */
/* The filter's descriptor                                                                     */
/* ------------------------------------------------------------------------------------------ */

/**
 * What a module is: returned by the entry symbol; filter-owned and static (read for the life of
 * the process, never freed). Hooks may be NULL (optional) unless marked required. Order of
 * calls for one request on one filter:
 *   on_request_new, on_request_headers, on_request_body*, on_response_headers,
 *   on_response_body*, on_log, on_request_destroy
 * where any hook may be skipped (a filter whose request side did not run because an earlier
 * one replied still sees the response hooks and on_log; Kong's order: higher priority first in
 * every phase).
 */
typedef struct sluice_filter_descriptor {
  uint32_t struct_size;  /**< sizeof(sluice_filter_descriptor) as the module compiled it */
  uint16_t abi_major;    /**< SLUICE_ABI_VERSION_MAJOR the module was built with */
  uint16_t abi_minor;    /**< SLUICE_ABI_VERSION_MINOR the module was built with */
  sluice_str name;       /**< the plugin name; must equal the file name without ".so" */
  sluice_str version;    /**< the filter's own version, for logs */
  int32_t priority;      /**< Kong priority: higher runs first (jwt 1450, cors 2000, ...) */
  uint32_t reserved0;    /**< set to 0 */
  uint64_t capabilities; /**< SLUICE_CAP_* bits; a body hook is called only with its bit */

  /**
   * Required. Parses and validates the plugin's `config:` subtree.
   * @param instance the host's record of this instance (for config_error, metric_define).
   * @param config_json borrowed JSON text of the `config:` object ("{}" when absent),
   *        followed by a NUL not counted in len.
   * @param out_config on SLUICE_OK, the filter-owned config handed to every other hook; read by
   *        all workers at once, so immutable or internally synchronised.
   * @return SLUICE_OK; SLUICE_ERR_REJECTED after config_error; any other error is reported
   *         as an internal failure of the filter.
   * Thread: main.
   */
  sluice_status (*on_config_new)(sluice_instance* instance, sluice_str config_json,
                                 void** out_config);

  /**
   * Frees a config from on_config_new, after every worker and request using it is gone.
   * Thread: main.
   */
  void (*on_config_destroy)(void* config);

  /**
   * Creates per-worker state for one config (sockets, caches). Runs on each worker before its
   * first request with that config.
   * @param out_worker_state filter-owned state handed to on_request_new; NULL is fine.
   * @return SLUICE_OK; an error makes the worker log it and answer that config's requests
   *         with 500.
   * Thread: the worker.
   */
  sluice_status (*on_worker_new)(void* config, sluice_worker* worker, void** out_worker_state);

  /** Frees per-worker state, after the worker's last request with that config. Thread: worker. */
  void (*on_worker_destroy)(void* config, void* worker_state);

  /**
   * Creates per-request state, before the first hook of this filter for the request.
   * @param out_request_state state handed to every request hook; NULL is fine; may simply be
   *        worker_state; prefer arena_alloc over malloc.
   * @return SLUICE_OK; an error answers the request with 500 (hooks are not called).
   * Thread: the worker.
   */
  sluice_status (*on_request_new)(sluice_request* req, void* config, void* worker_state,
                                  void** out_request_state);

  /**
   * Frees per-request state; runs exactly once for each successful on_request_new, also for
   * requests that were reset. Request callbacks other than arena memory are illegal here.
   * Thread: the worker.
   */
  void (*on_request_destroy)(sluice_request* req, void* config, void* request_state);

  /**
   * The request head arrived (and routing chose this chain).
   * @param end_of_stream true when the request has no body.
   * @return an action; PAUSE and STOP are legal.
   * Thread: the worker.
   */
  sluice_action (*on_request_headers)(sluice_request* req, void* config, void* request_state,
                                      bool end_of_stream);

  /**
   * A request body chunk arrived (body_get shows it). Called only with SLUICE_CAP_REQUEST_BODY.
   * @return an action; all four are legal (BUFFER at end_of_stream counts as CONTINUE).
   * Thread: the worker.
   */
  sluice_action (*on_request_body)(sluice_request* req, void* config, void* request_state,
                                   bool end_of_stream);

  /**
   * The response head is ready (from the upstream, or a local reply).
   * @return an action; PAUSE is legal, STOP replaces the response with a local reply.
   * Thread: the worker.
   */
  sluice_action (*on_response_headers)(sluice_request* req, void* config, void* request_state,
                                       bool end_of_stream);

  /**
   * A response body chunk (body_get). Called only with SLUICE_CAP_RESPONSE_BODY.
   * @return CONTINUE or BUFFER; STOP resets the client connection (the head is gone).
   * Thread: the worker.
   */
  sluice_action (*on_response_body)(sluice_request* req, void* config, void* request_state,
                                    bool end_of_stream);

  /**
   * The exchange is over (response sent, or the client went away): log and count. Read-only:
   * writes return SLUICE_ERR_WRONG_PHASE.
   * Thread: the worker.
   */
  void (*on_log)(sluice_request* req, void* config, void* request_state);
} sluice_filter_descriptor;

/** Type of the entry symbol. */
typedef const sluice_filter_descriptor* (*sluice_filter_module_fn)(const sluice_host_api* host);

/**
 * The one symbol a module exports. The host calls it once per process, on the main thread,
 * right after loading the file.
 * @param host process-owned callback table; keep it.
 * @return a filter-owned static descriptor, or NULL when the module cannot run with this host
 *         (log why with host->log first).
 */
SLUICE_EXPORT const sluice_filter_descriptor* sluice_filter_module_v1(const sluice_host_api* host);

/*
 * Changelog (append only):
 *   1.0  first stable ABI: descriptor with 11 hooks, host table with 36 callbacks.
 *   1.1  credentials_get, credential_set, upstream_health_list, upstream_method_set,
 *        uri_capture_get; SLUICE_INFO_CREDENTIAL_ID and
 *        the byte and latency facts 104-108; sluice_target_health.
 */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SLUICE_FILTER_H_ */
