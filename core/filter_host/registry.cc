// SPDX-License-Identifier: Apache-2.0
#include "core/filter_host/registry.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "core/filter_host/filter_host.h"

namespace sluice::filter_host {
namespace {

bool Matches(const config::Plugin& p, int route, int service, int consumer) {
  return p.enabled && (p.route == -1 || p.route == route) &&
         (p.service == -1 || p.service == service) && (p.consumer == -1 || p.consumer == consumer);
}

// A path as the config loader writes it: "config", "config.a.b", "config.a[0].b".
bool LooksLikeConfigPath(absl::string_view s) {
  if (s.substr(0, 6) != "config")
    return false;
  if (s.size() > 6 && s[6] != '.' && s[6] != '[')
    return false;
  return s.find_first_of(" \t\n") == absl::string_view::npos;
}

config::Error MapError(const std::string& file, const config::Plugin& plugin,
                       absl::string_view message) {
  config::Error e{file, plugin.mark, std::string(message)};
  size_t colon = message.find(": ");
  if (colon == absl::string_view::npos)
    return e;
  absl::string_view path = message.substr(0, colon);
  if (!LooksLikeConfigPath(path))
    return e;
  // The most specific known ancestor: a missing field has no mark of its own, but its parent
  // object does.
  for (;;) {
    auto it = plugin.config_marks.find(std::string(path));
    if (it != plugin.config_marks.end() && it->second.line > 0) {
      e.mark = it->second;
      return e;
    }
    size_t cut = path.find_last_of(".[");
    if (cut == absl::string_view::npos || cut == 0)
      return e;
    path = path.substr(0, cut);
  }
}

}  // namespace

int ScopeRank(int route, int service, int consumer) {
  bool r = route >= 0, s = service >= 0, c = consumer >= 0;
  if (r && s && c)
    return 1;
  if (r && c)
    return 2;
  if (s && c)
    return 3;
  if (r && s)
    return 4;
  if (c)
    return 5;
  if (r)
    return 6;
  if (s)
    return 7;
  return 8;
}

std::vector<int> ResolvePlugins(const std::vector<config::Plugin>& plugins, int route, int service,
                                int consumer) {
  absl::flat_hash_map<absl::string_view, int> best;  // name -> plugin index
  for (int i = 0; i < static_cast<int>(plugins.size()); ++i) {
    const config::Plugin& p = plugins[i];
    if (!Matches(p, route, service, consumer))
      continue;
    auto [it, inserted] = best.try_emplace(p.name, i);
    if (inserted)
      continue;
    const config::Plugin& q = plugins[it->second];
    if (ScopeRank(p.route, p.service, p.consumer) < ScopeRank(q.route, q.service, q.consumer)) {
      it->second = i;
    }
  }
  std::vector<int> out;
  out.reserve(best.size());
  for (const auto& [name, i] : best)
    out.push_back(i);
  std::sort(out.begin(), out.end(),
            [&](int a, int b) { return plugins[a].name < plugins[b].name; });
  return out;
}

bool RunsBefore(const Instance& a, const Instance& b) {
  return std::tie(b.priority, a.name) < std::tie(a.priority, b.name);
}

std::string MapConfigError(const std::string& file, const config::Plugin& plugin,
                           absl::string_view message) {
  return MapError(file, plugin, message).ToString();
}

absl::StatusOr<std::unique_ptr<Chains>> Chains::Build(const config::Config& config, Loader& loader,
                                                      FilterHost& host) {
  std::unique_ptr<Chains> chains(new Chains());
  for (int i = 0; i < static_cast<int>(config.consumers.size()); ++i) {
    const config::Consumer& c = config.consumers[i];
    chains->consumers_.push_back({c.id, c.username, c.custom_id});
    if (!c.id.empty())
      chains->consumer_by_id_.try_emplace(c.id, i);
    if (!c.username.empty())
      chains->consumer_by_username_.try_emplace(c.username, i);
    if (!c.custom_id.empty())
      chains->consumer_by_custom_id_.try_emplace(c.custom_id, i);
  }

  std::vector<config::Error> errors;
  for (int i = 0; i < static_cast<int>(config.plugins.size()); ++i) {
    const config::Plugin& p = config.plugins[i];
    auto inst = std::make_unique<Instance>();
    inst->host = &host;
    inst->index = i;
    inst->plugin = i;
    inst->name = p.name;
    inst->route = p.route;
    inst->service = p.service;
    inst->consumer = p.consumer;
    inst->enabled = p.enabled;
    Instance& in = *inst;
    chains->instances_.push_back(std::move(inst));

    absl::StatusOr<const Module*> module = loader.Load(p.name);
    if (!module.ok()) {
      errors.push_back({config.source_file, p.mark, std::string(module.status().message())});
      continue;
    }
    in.module = *module;
    in.priority = in.module->desc.priority;
    in.configuring = true;
    in.source = &config;
    void* cfg = nullptr;
    // config_json is a std::string, so the NUL the ABI promises after the text is there.
    sluice_status st =
        in.module->desc.on_config_new(reinterpret_cast<sluice_instance*>(&in),
                                      {p.config_json.data(), p.config_json.size()}, &cfg);
    in.configuring = false;
    in.source = nullptr;
    std::string().swap(in.scratch);
    if (st == SLUICE_OK && in.errors.empty()) {
      in.config = cfg;
      in.configured = true;
      continue;
    }
    if (st == SLUICE_OK)
      in.module->desc.on_config_destroy(cfg);
    if (in.errors.empty()) {
      in.errors.push_back(absl::StrCat("plugin '", p.name, "': config rejected (status ", st,
                                       ") without a reason"));
    }
    for (const std::string& message : in.errors) {
      errors.push_back(MapError(config.source_file, p, message));
    }
    in.errors.clear();
  }
  if (!errors.empty()) {
    std::stable_sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) {
      return std::tie(a.mark.line, a.mark.col) < std::tie(b.mark.line, b.mark.col);
    });
    std::vector<std::string> lines;
    for (const config::Error& e : errors)
      lines.push_back(e.ToString());
    return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
  }

  chains->by_route_.push_back(chains->Intern(ResolvePlugins(config.plugins, -1, -1, -1), false));
  for (int r = 0; r < static_cast<int>(config.routes.size()); ++r) {
    int s = config.routes[r].service;
    std::vector<int> consumers;
    for (const config::Plugin& p : config.plugins) {
      if (p.consumer >= 0 && Matches(p, r, s, p.consumer))
        consumers.push_back(p.consumer);
    }
    std::sort(consumers.begin(), consumers.end());
    consumers.erase(std::unique(consumers.begin(), consumers.end()), consumers.end());
    chains->by_route_.push_back(
        chains->Intern(ResolvePlugins(config.plugins, r, s, -1), !consumers.empty()));
    for (int c : consumers) {
      chains->by_consumer_[(int64_t{r} << 32) | c] =
          chains->Intern(ResolvePlugins(config.plugins, r, s, c), true);
    }
  }
  return chains;
}

const Chain* Chains::Intern(std::vector<int> plugins, bool consumer_scoped) {
  std::vector<const Instance*> filters;
  for (int i : plugins)
    filters.push_back(instances_[i].get());
  std::sort(filters.begin(), filters.end(),
            [](const Instance* a, const Instance* b) { return RunsBefore(*a, *b); });
  std::string key = consumer_scoped ? "c" : "-";
  for (const Instance* in : filters)
    absl::StrAppend(&key, ",", in->index);
  auto it = interned_.find(key);
  if (it != interned_.end())
    return it->second;
  auto chain = std::make_unique<Chain>();
  chain->filters = std::move(filters);
  chain->consumer_scoped = consumer_scoped;
  for (const Instance* in : chain->filters) {
    chain->request_body |= (in->module->desc.capabilities & SLUICE_CAP_REQUEST_BODY) != 0;
    chain->response_body |= (in->module->desc.capabilities & SLUICE_CAP_RESPONSE_BODY) != 0;
  }
  const Chain* raw = chain.get();
  storage_.push_back(std::move(chain));
  interned_.emplace(std::move(key), raw);
  return raw;
}

Chains::~Chains() {
  for (auto& in : instances_) {
    if (in->configured)
      in->module->desc.on_config_destroy(in->config);
  }
}

const Chain& Chains::ForRoute(int route) const {
  if (route < 0 || route + 1 >= static_cast<int>(by_route_.size()))
    return *by_route_[0];
  return *by_route_[route + 1];
}

const Chain& Chains::ForConsumer(int route, int consumer) const {
  auto it = by_consumer_.find((int64_t{route} << 32) | consumer);
  return it == by_consumer_.end() ? ForRoute(route) : *it->second;
}

int Chains::FindConsumer(absl::string_view key) const {
  std::string k(key);
  if (auto it = consumer_by_id_.find(k); it != consumer_by_id_.end())
    return it->second;
  if (auto it = consumer_by_username_.find(k); it != consumer_by_username_.end()) {
    return it->second;
  }
  if (auto it = consumer_by_custom_id_.find(k); it != consumer_by_custom_id_.end()) {
    return it->second;
  }
  return -1;
}

}  // namespace sluice::filter_host
