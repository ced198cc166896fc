/* SPDX-License-Identifier: Apache-2.0 */
/*
 * correlation-id: gives every request an id in a header (X-Correlation-ID unless configured),
 * generated when the client did not send one, and echoes it on the response. Plain C11 against
 * <sluice/filter.h> only; shows config parsing with field-path errors, per-worker state and
 * the zero-copy header calls.
 *
 * config: {"header_name": "X-Correlation-ID", "echo_downstream": true}
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sluice/filter.h>

static const sluice_host_api* host;

typedef struct config {
  char header_name[128];
  size_t header_len;
  bool echo_downstream;
} config;

typedef struct worker_state {
  uint64_t s[2]; /* xorshift128+ state: ids need to be unique, not secret */
} worker_state;

static sluice_str str(const char* s, size_t n) {
  sluice_str r;
  r.data = s;
  r.len = n;
  return r;
}

static sluice_status reject(sluice_instance* inst, const char* message) {
  host->config_error(inst, str(message, strlen(message)));
  return SLUICE_ERR_REJECTED;
}

/* A small scanner for the flat JSON object the host hands over: string and boolean members. */
typedef struct scanner {
  const char* p;
  const char* end;
} scanner;

static void skip_space(scanner* sc) {
  while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\n' || *sc->p == '\t' || *sc->p == '\r')) {
    sc->p++;
  }
}

static bool take(scanner* sc, char c) {
  skip_space(sc);
  if (sc->p < sc->end && *sc->p == c) {
    sc->p++;
    return true;
  }
  return false;
}

/* Reads a string without escapes into [*out, *out + *len). */
static bool scan_string(scanner* sc, const char** out, size_t* len) {
  if (!take(sc, '"'))
    return false;
  *out = sc->p;
  while (sc->p < sc->end && *sc->p != '"') {
    if (*sc->p == '\\')
      return false;
    sc->p++;
  }
  if (sc->p >= sc->end)
    return false;
  *len = (size_t)(sc->p - *out);
  sc->p++;
  return true;
}

static bool scan_word(scanner* sc, const char* word) {
  size_t n = strlen(word);
  skip_space(sc);
  if ((size_t)(sc->end - sc->p) < n || memcmp(sc->p, word, n) != 0)
    return false;
  sc->p += n;
  return true;
}

static sluice_status on_config_new(sluice_instance* inst, sluice_str json, void** out) {
  config* c = calloc(1, sizeof *c);
  scanner sc;
  char message[256];
  if (c == NULL)
    return SLUICE_ERR_NO_MEMORY;
  memcpy(c->header_name, "X-Correlation-ID", 16);
  c->header_len = 16;
  c->echo_downstream = true;
  sc.p = json.data;
  sc.end = json.data + json.len;
  if (!take(&sc, '{')) {
    free(c);
    return reject(inst, "config: expected an object");
  }
  if (!take(&sc, '}')) {
    do {
      const char* key;
      size_t key_len;
      if (!scan_string(&sc, &key, &key_len) || !take(&sc, ':')) {
        free(c);
        return reject(inst, "config: expected a member name without escapes");
      }
      if (key_len == 11 && memcmp(key, "header_name", 11) == 0) {
        const char* v;
        size_t n;
        if (!scan_string(&sc, &v, &n)) {
          free(c);
          return reject(inst, "config.header_name: expected a string");
        }
        if (n == 0 || n >= sizeof c->header_name) {
          free(c);
          return reject(inst, "config.header_name: length must be between 1 and 127");
        }
        memcpy(c->header_name, v, n);
        c->header_len = n;
      } else if (key_len == 15 && memcmp(key, "echo_downstream", 15) == 0) {
        if (scan_word(&sc, "true")) {
          c->echo_downstream = true;
        } else if (scan_word(&sc, "false")) {
          c->echo_downstream = false;
        } else {
          free(c);
          return reject(inst, "config.echo_downstream: expected a boolean");
        }
      } else {
        snprintf(message, sizeof message, "config.%.*s: unknown field", (int)key_len, key);
        free(c);
        return reject(inst, message);
      }
    } while (take(&sc, ','));
    if (!take(&sc, '}')) {
      free(c);
      return reject(inst, "config: expected ',' or '}'");
    }
  }
  *out = c;
  return SLUICE_OK;
}

static void on_config_destroy(void* c) { free(c); }

static sluice_status on_worker_new(void* cfg, sluice_worker* worker, void** out) {
  worker_state* w = malloc(sizeof *w);
  FILE* f;
  (void)cfg;
  (void)worker;
  if (w == NULL)
    return SLUICE_ERR_NO_MEMORY;
  w->s[0] = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)w;
  w->s[1] = 0x9E3779B97F4A7C15ull ^ (uint64_t)clock();
  f = fopen("/dev/urandom", "rb");
  if (f != NULL) {
    if (fread(w->s, sizeof w->s, 1, f) != 1)
      w->s[1] ^= 1;
    fclose(f);
  }
  if (w->s[0] == 0 && w->s[1] == 0)
    w->s[1] = 1;
  *out = w;
  return SLUICE_OK;
}

static void on_worker_destroy(void* cfg, void* w) {
  (void)cfg;
  free(w);
}

static uint64_t next_random(worker_state* w) {
  uint64_t a = w->s[0];
  const uint64_t b = w->s[1];
  w->s[0] = b;
  a ^= a << 23;
  w->s[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
  return w->s[1] + b;
}

static sluice_status on_request_new(sluice_request* req, void* cfg, void* w, void** out) {
  (void)req;
  (void)cfg;
  *out = w; /* the hooks need only the worker's generator */
  return SLUICE_OK;
}

static sluice_action on_request_headers(sluice_request* req, void* cfg, void* st, bool eos) {
  const config* c = cfg;
  sluice_str existing;
  sluice_str name = str(c->header_name, c->header_len);
  char id[37];
  uint64_t hi, lo;
  (void)eos;
  if (host->header_get(req, SLUICE_MAP_REQUEST, name, 0, &existing) == SLUICE_OK &&
      existing.len > 0) {
    return SLUICE_ACTION_CONTINUE;
  }
  hi = next_random(st);
  lo = next_random(st);
  hi = (hi & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull; /* version 4 */
  lo = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull; /* RFC 4122 variant */
  snprintf(id, sizeof id, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(hi >> 32),
           (unsigned)((hi >> 16) & 0xFFFF), (unsigned)(hi & 0xFFFF), (unsigned)(lo >> 48),
           (unsigned long long)(lo & 0xFFFFFFFFFFFFull));
  host->header_set(req, SLUICE_MAP_REQUEST, name, str(id, 36));
  return SLUICE_ACTION_CONTINUE;
}

static sluice_action on_response_headers(sluice_request* req, void* cfg, void* st, bool eos) {
  const config* c = cfg;
  sluice_str value;
  sluice_str name = str(c->header_name, c->header_len);
  (void)st;
  (void)eos;
  if (c->echo_downstream &&
      host->header_get(req, SLUICE_MAP_REQUEST, name, 0, &value) == SLUICE_OK) {
    host->header_set(req, SLUICE_MAP_RESPONSE, name, value);
  }
  return SLUICE_ACTION_CONTINUE;
}

SLUICE_EXPORT const sluice_filter_descriptor* sluice_filter_module_v1(const sluice_host_api* h) {
  static sluice_filter_descriptor d;
  host = h;
  memset(&d, 0, sizeof d);
  d.struct_size = sizeof d;
  d.abi_major = SLUICE_ABI_VERSION_MAJOR;
  d.abi_minor = SLUICE_ABI_VERSION_MINOR;
  d.name = str("correlation-id", 14);
  d.version = str("1.0.0", 5);
  d.priority = 100001; /* Kong's correlation-id runs first, at 100001 */
  d.on_config_new = on_config_new;
  d.on_config_destroy = on_config_destroy;
  d.on_worker_new = on_worker_new;
  d.on_worker_destroy = on_worker_destroy;
  d.on_request_new = on_request_new;
  d.on_request_headers = on_request_headers;
  d.on_response_headers = on_response_headers;
  return &d;
}
