// SPDX-License-Identifier: Apache-2.0
#include "core/proxy/snapshot.h"

#include "absl/strings/str_cat.h"

#include "core/common/log.h"

namespace sluice::proxy {
namespace {

std::string HostHeader(absl::string_view host, int port, bool https) {
  if ((!https && port == 80) || (https && port == 443))
    return std::string(host);
  bool v6 = host.find(':') != absl::string_view::npos;
  return v6 ? absl::StrCat("[", host, "]:", port) : absl::StrCat(host, ":", port);
}

balancer::UpstreamOptions OptionsOf(const config::Upstream& u) {
  balancer::UpstreamOptions o;
  o.breaker.enabled = u.circuit_breaker.enabled;
  o.breaker.failure_threshold = static_cast<uint32_t>(u.circuit_breaker.failure_threshold);
  o.breaker.open_timeout_ms = static_cast<uint64_t>(u.circuit_breaker.open_timeout * 1000);
  o.breaker.half_open_requests = static_cast<uint32_t>(u.circuit_breaker.half_open_requests);
  o.retry_budget.enabled = u.retry_budget.enabled;
  o.retry_budget.percent = u.retry_budget.percent;
  o.retry_budget.min_retries = static_cast<uint32_t>(u.retry_budget.min_retries);
  return o;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Snapshot>> BuildSnapshot(config::Config config,
                                                              uint64_t version, FilterSetup filters,
                                                              const Snapshot* previous) {
  auto snap = std::make_shared<Snapshot>();
  snap->version = version;
  // The router may point into the config, so compile it where it will live.
  snap->config = std::move(config);
  auto router = router::Router::Compile(snap->config);
  if (!router.ok())
    return router.status();
  snap->router = std::move(router).value();
  if (filters.loader != nullptr && filters.host != nullptr) {
    auto chains = filter_host::Chains::Build(snap->config, *filters.loader, *filters.host);
    if (!chains.ok())
      return chains.status();
    snap->filters = std::move(chains).value();
  } else if (!snap->config.plugins.empty()) {
    return absl::FailedPreconditionError("plugins need a filter host");
  }

  std::vector<balancer::UpstreamOptions> options;
  for (const config::Upstream& u : snap->config.upstreams)
    options.push_back(OptionsOf(u));
  snap->balancers =
      balancer::Set::Build(snap->config, options, previous ? previous->balancers.get() : nullptr);

  for (const config::Service& s : snap->config.services) {
    ServiceRoute sr;
    sr.path = s.path.value_or("");
    sr.https = s.protocol == "https";
    sr.connect_timeout_ms = s.connect_timeout_ms;
    sr.write_timeout_ms = s.write_timeout_ms;
    sr.read_timeout_ms = s.read_timeout_ms;
    sr.retries = s.retries;
    sr.upstream = snap->balancers->IndexOf(s.host);
    if (sr.upstream >= 0) {
      // Kong: the upstream's host_header (with the service port) if set, else the target's.
      const balancer::Upstream& up = snap->balancers->at(static_cast<size_t>(sr.upstream));
      const config::Upstream& cfg = snap->config.upstreams[static_cast<size_t>(sr.upstream)];
      for (size_t i = 0; i < up.size(); ++i) {
        const balancer::TargetInfo& t = up.target(i);
        sr.target_host_headers.push_back(cfg.host_header.empty()
                                             ? HostHeader(t.host, t.port, sr.https)
                                             : HostHeader(cfg.host_header, s.port, sr.https));
      }
    } else if (int i = snap->balancers->ImplicitIndexOf(absl::StrCat(s.host, ":", s.port));
               i >= 0) {
      // A DNS name: its own upstream keeps the address current (balancer::Set::Build).
      sr.upstream = i;
      sr.dns_name = true;
      sr.target_host_headers.push_back(HostHeader(s.host, s.port, sr.https));
    } else {
      Endpoint e;
      if (net::ParseNumeric(s.host, s.port, &e.address)) {
        e.host_header = HostHeader(s.host, s.port, sr.https);
        sr.endpoints.push_back(std::move(e));
      }
    }
    snap->services.push_back(std::move(sr));
  }
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

}  // namespace sluice::proxy
