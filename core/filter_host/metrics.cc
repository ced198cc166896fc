// SPDX-License-Identifier: Apache-2.0
#include "core/filter_host/metrics.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sluice::filter_host {
namespace {

absl::string_view View(sluice_str s) {
  return s.data == nullptr ? absl::string_view() : absl::string_view(s.data, s.len);
}

bool ValidName(absl::string_view n, bool label) {
  if (n.empty())
    return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (!label && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok)
      return false;
  }
  return !(label && n.substr(0, 2) == "__");
}

void EscapeLabel(absl::string_view v, std::string* out) {
  for (char c : v) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '"') {
      out->append("\\\"");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

std::string Number(double v) { return absl::StrFormat("%.17g", v); }

const std::vector<double>& DefaultBuckets() {
  static const std::vector<double> b = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return b;
}

}  // namespace

Metric::Metric(sluice_metric_kind kind, std::string name, std::string help,
               std::vector<std::string> labels, std::vector<double> buckets)
    : kind_(kind),
      name_(std::move(name)),
      help_(std::move(help)),
      labels_(std::move(labels)),
      buckets_(std::move(buckets)) {}

Metric::Series* Metric::Find(const sluice_str* labels, size_t n, sluice_status* err) {
  if (n != labels_.size() || (n > 0 && labels == nullptr)) {
    *err = SLUICE_ERR_INVALID;
    return nullptr;
  }
  std::string key;
  for (size_t i = 0; i < n; ++i) {
    if (i > 0)
      key.push_back(',');
    absl::StrAppend(&key, labels_[i], "=\"");
    EscapeLabel(View(labels[i]), &key);
    key.push_back('"');
  }
  auto it = series_.find(key);
  if (it != series_.end())
    return &it->second;
  if (series_.size() >= kMaxSeries) {
    *err = SLUICE_ERR_LIMIT;
    return nullptr;
  }
  Series& s = series_[key];
  if (kind_ == SLUICE_METRIC_HISTOGRAM)
    s.counts.assign(buckets_.size() + 1, 0);
  return &s;
}

sluice_status Metric::Add(const sluice_str* labels, size_t n, double delta) {
  if (kind_ == SLUICE_METRIC_HISTOGRAM || (kind_ == SLUICE_METRIC_COUNTER && !(delta >= 0))) {
    return SLUICE_ERR_INVALID;
  }
  absl::MutexLock lock(&mu_);
  sluice_status err = SLUICE_OK;
  Series* s = Find(labels, n, &err);
  if (s == nullptr)
    return err;
  s->value += delta;
  return SLUICE_OK;
}

sluice_status Metric::Set(const sluice_str* labels, size_t n, double value) {
  if (kind_ != SLUICE_METRIC_GAUGE)
    return SLUICE_ERR_INVALID;
  absl::MutexLock lock(&mu_);
  sluice_status err = SLUICE_OK;
  Series* s = Find(labels, n, &err);
  if (s == nullptr)
    return err;
  s->value = value;
  return SLUICE_OK;
}

sluice_status Metric::Observe(const sluice_str* labels, size_t n, double value) {
  if (kind_ != SLUICE_METRIC_HISTOGRAM)
    return SLUICE_ERR_INVALID;
  absl::MutexLock lock(&mu_);
  sluice_status err = SLUICE_OK;
  Series* s = Find(labels, n, &err);
  if (s == nullptr)
    return err;
  size_t i = std::lower_bound(buckets_.begin(), buckets_.end(), value) - buckets_.begin();
  ++s->counts[i];
  s->sum += value;
  ++s->count;
  return SLUICE_OK;
}

void Metric::Render(std::string* out) const {
  static constexpr const char* kTypes[] = {"counter", "gauge", "histogram"};
  absl::StrAppend(out, "# HELP ", name_, " ", help_, "\n# TYPE ", name_, " ", kTypes[kind_], "\n");
  absl::MutexLock lock(&mu_);
  for (const auto& [key, s] : series_) {
    if (kind_ != SLUICE_METRIC_HISTOGRAM) {
      absl::StrAppend(out, name_, key.empty() ? "" : "{", key, key.empty() ? "" : "}", " ",
                      Number(s.value), "\n");
      continue;
    }
    uint64_t cumulative = 0;
    std::string sep = key.empty() ? "" : ",";
    for (size_t i = 0; i <= buckets_.size(); ++i) {
      cumulative += s.counts[i];
      std::string le = i < buckets_.size() ? Number(buckets_[i]) : "+Inf";
      absl::StrAppend(out, name_, "_bucket{", key, sep, "le=\"", le, "\"} ", cumulative, "\n");
    }
    std::string braces = key.empty() ? "" : absl::StrCat("{", key, "}");
    absl::StrAppend(out, name_, "_sum", braces, " ", Number(s.sum), "\n", name_, "_count", braces,
                    " ", s.count, "\n");
  }
}

absl::StatusOr<Metric*> Metrics::Define(const sluice_metric_desc& desc) {
  if (desc.struct_size < sizeof(sluice_metric_desc)) {
    return absl::InvalidArgumentError("metric definition is too small");
  }
  std::string name(View(desc.name));
  if (!ValidName(name, false)) {
    return absl::InvalidArgumentError(
        absl::StrCat("metric name '", name, "' is not a valid prometheus name"));
  }
  if (desc.kind < SLUICE_METRIC_COUNTER || desc.kind > SLUICE_METRIC_HISTOGRAM) {
    return absl::InvalidArgumentError(absl::StrCat("metric ", name, ": unknown kind"));
  }
  if (desc.label_count > 16 || (desc.label_count > 0 && desc.label_names == nullptr)) {
    return absl::InvalidArgumentError(absl::StrCat("metric ", name, ": bad label list"));
  }
  std::vector<std::string> labels;
  for (size_t i = 0; i < desc.label_count; ++i) {
    std::string l(View(desc.label_names[i]));
    if (!ValidName(l, true) || (desc.kind == SLUICE_METRIC_HISTOGRAM && l == "le")) {
      return absl::InvalidArgumentError(absl::StrCat("metric ", name, ": bad label '", l, "'"));
    }
    labels.push_back(std::move(l));
  }
  std::vector<double> buckets;
  if (desc.kind == SLUICE_METRIC_HISTOGRAM) {
    if (desc.bucket_count > 0 && desc.buckets != nullptr) {
      buckets.assign(desc.buckets, desc.buckets + desc.bucket_count);
    } else {
      buckets = DefaultBuckets();
    }
    for (size_t i = 1; i < buckets.size(); ++i) {
      if (!(buckets[i] > buckets[i - 1])) {
        return absl::InvalidArgumentError(absl::StrCat("metric ", name, ": buckets not ascending"));
      }
    }
  }
  absl::MutexLock lock(&mu_);
  auto it = metrics_.find(name);
  if (it != metrics_.end()) {
    if (it->second->kind() != desc.kind || it->second->labels() != labels) {
      return absl::InvalidArgumentError(
          absl::StrCat("metric ", name, " is already defined with another kind or labels"));
    }
    return it->second.get();
  }
  auto m = std::make_unique<Metric>(desc.kind, name, std::string(View(desc.help)),
                                    std::move(labels), std::move(buckets));
  Metric* raw = m.get();
  metrics_.emplace(name, std::move(m));
  return raw;
}

std::string Metrics::Render() const {
  std::string out;
  absl::MutexLock lock(&mu_);
  for (const auto& [name, m] : metrics_)
    m->Render(&out);
  return out;
}

}  // namespace sluice::filter_host
