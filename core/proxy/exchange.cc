// SPDX-License-Identifier: Apache-2.0
#include "core/proxy/exchange.h"

#include <cstdio>
#include <cstring>

#include "core/proxy/access_log.h"
#include "core/proxy/session.h"

namespace sluice::proxy {

void WriteBatch::AddChunk(const char* data, size_t len) {
  if (len == 0)
    return;
  char* line = line_storage_[lines_++];
  int n = snprintf(line, sizeof line_storage_[0], "%zx\r\n", len);
  Add(line, static_cast<size_t>(n));
  Add(data, len);
  Add("\r\n", 2);
}

void WriteBatch::Consume(size_t n) {
  unsigned first = 0;
  while (first < count_ && n >= bufs_[first].len)
    n -= bufs_[first++].len;
  if (first < count_) {
    bufs_[first].base += n;
    bufs_[first].len -= n;
  }
  // The chunk-size lines stay where they are: the moved buffers still point at them.
  std::memmove(bufs_, bufs_ + first, (count_ - first) * sizeof(uv_buf_t));
  count_ -= first;
}

size_t WriteBatch::bytes() const {
  size_t total = 0;
  for (unsigned i = 0; i < count_; ++i)
    total += bufs_[i].len;
  return total;
}

void Exchange::Reset() {
  req_headers.Clear();
  target = field = value = absl::string_view();
  method = 0;
  http10 = false;
  keep_alive = true;
  head_done = req_chunked = req_has_body = req_complete = is_head = idempotent = false;
  wants_plain = expect_continue = false;
  req_body_bytes = 0;
  norm_path.clear();
  up_path.clear();
  out.clear();
  log_target.clear();
  log_method.clear();
  connection_tokens.clear();
  req_batch.Clear();
  up_write_pending = false;
  snap = nullptr;
  route = nullptr;
  service = nullptr;
  host_header = nullptr;
  picker = nullptr;
  sel = {};
  attempt_start_ns = up_latency_us = 0;
  up_status = 0;
  match.route = match.service = -1;
  match.matched_prefix = absl::string_view();
  match.captures.clear();
  up = nullptr;
  attempts = 0;
  up_end = up_parse_pos = 0;
  resp_headers.Clear();
  resp_field = resp_value = resp_reason = absl::string_view();
  status = 0;
  skipping_informational = resp_started = resp_complete = chunked_out = close_after = false;
  up_reusable = false;
  resp_head.clear();
  resp_batch.Clear();
  bytes_sent = 0;
  phase = Phase::kHead;
  start_ms = upstream_start_ms = upstream_headers_ms = 0;
  // The chain was ended by the previous request; its buffers keep their capacity.
  filters = buffer_req_body = resp_body_filters = false;
  filter_wait = FilterWait::kNone;
  req_body.clear();
  req_body_out = {};
  resp_out.clear();
  head_bytes = 0;
}

void WorkerContext::Install(std::shared_ptr<const Snapshot> snap) {
  auto* ws = new WorkerSnapshot;
  ws->snap = std::move(snap);
  if (ws->snap->balancers != nullptr)
    ws->pickers = std::make_unique<balancer::WorkerPickers>(*ws->snap->balancers);
  if (worker_host != nullptr && ws->snap->filters != nullptr)
    ws->filters = std::make_unique<filter_host::WorkerFilters>(*worker_host, *ws->snap->filters);
  WorkerSnapshot* old = current;
  current = ws;
  if (old != nullptr) {
    old->retired = true;
    if (old->inflight == 0)
      delete old;
  }
}

void WorkerContext::StartFilters(int index) {
  worker_host = std::make_unique<filter_host::WorkerHost>(loop, index);
  worker_host->SetServiceLookup([this](absl::string_view name, filter_host::ServiceEndpoint* out) {
    return LookupService(name, out);
  });
  if (current != nullptr && current->filters == nullptr && current->snap->filters != nullptr) {
    current->filters =
        std::make_unique<filter_host::WorkerFilters>(*worker_host, *current->snap->filters);
  }
}

// http_call's view of a service: the snapshot in force when the call starts (this worker's
// thread only, like Install, so `current` needs no lock).
bool WorkerContext::LookupService(absl::string_view name, filter_host::ServiceEndpoint* out) const {
  if (current == nullptr)
    return false;
  const Snapshot& snap = *current->snap;
  for (size_t i = 0; i < snap.config.services.size(); ++i) {
    const config::Service& cfg = snap.config.services[i];
    if (cfg.name != name || !cfg.enabled)
      continue;
    const ServiceRoute& svc = snap.services[i];
    if (svc.https)
      return false;  // http_call speaks plain HTTP/1.1 only
    out->timeout_ms = svc.read_timeout_ms;
    if (svc.upstream < 0) {
      if (svc.endpoints.empty())
        return false;  // the host did not resolve
      out->address = svc.endpoints.front().address;
      out->host_header = svc.endpoints.front().host_header;
      return true;
    }
    // An upstream: the first target that could take a request now. Not a Pick (each pick
    // must be reported), so side calls stay out of the balancer's counts.
    const balancer::Upstream& up = snap.balancers->at(static_cast<size_t>(svc.upstream));
    const uint64_t now = uv_now(loop);
    for (size_t t = 0; t < up.size(); ++t) {
      if (up.Eligible(t, now) && up.state(t).address.Load(&out->address)) {
        out->host_header = svc.target_host_headers[t];
        return true;
      }
    }
    return false;
  }
  return false;
}

void WorkerContext::StopFilters() {
  // Every session was closed (ending its chain); retired snapshots are gone with them.
  if (current != nullptr)
    current->filters.reset();
  worker_host.reset();
}

WorkerContext::~WorkerContext() {
  for (Exchange* ex : free_exchanges)
    delete ex;
  if (current != nullptr && current->inflight == 0)
    delete current;
  delete access_log;
}

}  // namespace sluice::proxy
