// SPDX-License-Identifier: Apache-2.0
#include "core/filter_host/metrics.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <thread>

#include "absl/hash/hash.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sluice::filter_host {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

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

// Length of the valid UTF-8 sequence starting at s[i], or 0 (overlong forms, surrogates and
// code points past U+10FFFF are invalid, as Go's utf8.ValidString which Prometheus applies).
size_t Utf8Length(absl::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const auto cont = [&](size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  unsigned char c = b(0);
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2) || (c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) > 0x9F))
      return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3) || (c == 0xF0 && b(1) < 0x90) ||
        (c == 0xF4 && b(1) > 0x8F)) {
      return 0;
    }
    return 4;
  }
  return 0;
}

// Appends a label value escaped for the text format; bytes that are not UTF-8 become U+FFFD,
// since Prometheus rejects the whole scrape for one bad label value.
void AppendLabelValue(absl::string_view v, std::string* out) {
  for (size_t i = 0; i < v.size();) {
    char c = v[i];
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '"') {
      out->append("\\\"");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      size_t len = Utf8Length(v, i);
      if (len == 0) {
        out->append("\xEF\xBF\xBD");
        ++i;
        continue;
      }
      out->append(v.data() + i, len);
      i += len;
      continue;
    }
    ++i;
  }
}

void AppendHelp(absl::string_view v, std::string* out) {
  for (char c : v) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

// The shortest text that reads back as the same double; Prometheus spells the specials.
std::string Number(double v) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

const std::vector<double>& DefaultBuckets() {
  static const std::vector<double> b = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return b;
}

// Adds to a double kept as bits in a uint64 cell. A CAS loop, because two threads may share a
// shard (more threads than shards); without contention it costs one locked instruction.
void AddDouble(std::atomic<uint64_t>* cell, double d) {
  uint64_t old = cell->load(kRelaxed);
  while (!cell->compare_exchange_weak(old, std::bit_cast<uint64_t>(std::bit_cast<double>(old) + d),
                                      kRelaxed)) {
  }
}

double LoadDouble(const std::atomic<uint64_t>& cell) {
  return std::bit_cast<double>(cell.load(kRelaxed));
}

uint64_t HashLabels(const sluice_str* labels, size_t n) {
  uint64_t h = n;
  for (size_t i = 0; i < n; ++i) {
    h ^= absl::Hash<absl::string_view>{}(View(labels[i]));
    h *= 0x9E3779B97F4A7C15ULL;
    h ^= h >> 29;
  }
  return h;
}

size_t ThreadShard() {
  static std::atomic<size_t> next{0};
  thread_local const size_t shard = next.fetch_add(1, kRelaxed) % Metric::ShardCount();
  return shard;
}

}  // namespace

// Eight cells on one cache line: one shard of one series never shares a line with another
// shard, so two workers recording the same series do not bounce lines.
struct alignas(64) Line {
  std::atomic<uint64_t> cell[8];
};

struct Metric::Series {
  uint64_t hash = 0;
  std::vector<std::string> values;
  std::string text;               // rendered `a="x",b="y"`
  std::atomic<double> gauge{0};   // gauges are not sharded: set needs one value
  std::unique_ptr<Line[]> lines;  // ShardCount() * lines_, shard-major
};

struct Metric::Index {
  explicit Index(size_t capacity)
      : mask(capacity - 1), slots(new std::atomic<Series*>[capacity]()) {}

  size_t mask;
  std::unique_ptr<std::atomic<Series*>[]> slots;
  size_t used = 0;  // written under the metric's mu_ only
};

size_t Metric::ShardCount() {
  // A few more shards than cores: workers default to one per core, plus the main thread and
  // any threads a filter starts. Collisions only cost contention, never correctness.
  static const size_t n = std::clamp<size_t>(std::thread::hardware_concurrency() + 4, 4, 64);
  return n;
}

Metric::Metric(sluice_metric_kind kind, std::string name, std::string help,
               std::vector<std::string> labels, std::vector<double> buckets)
    : kind_(kind),
      name_(std::move(name)),
      help_(std::move(help)),
      labels_(std::move(labels)),
      buckets_(std::move(buckets)),
      cells_(kind_ == SLUICE_METRIC_HISTOGRAM ? buckets_.size() + 2 : 1),
      lines_((cells_ + 7) / 8) {
  auto first = std::make_unique<Index>(16);
  index_.store(first.get(), std::memory_order_release);
  absl::MutexLock lock(&mu_);
  tables_.push_back(std::move(first));
}

Metric::~Metric() = default;

Metric::Series* Metric::Find(const sluice_str* labels, size_t n, sluice_status* err) {
  if (n != labels_.size() || (n > 0 && labels == nullptr)) {
    *err = SLUICE_ERR_INVALID;
    return nullptr;
  }
  const uint64_t hash = HashLabels(labels, n);
  const Index* index = index_.load(std::memory_order_acquire);
  for (size_t i = hash & index->mask;; i = (i + 1) & index->mask) {
    Series* s = index->slots[i].load(std::memory_order_acquire);
    if (s == nullptr)
      break;
    if (s->hash != hash)
      continue;
    bool same = true;
    for (size_t k = 0; k < n && same; ++k)
      same = View(labels[k]) == s->values[k];
    if (same)
      return s;
  }
  return Create(labels, n, hash, err);
}

Metric::Series* Metric::Create(const sluice_str* labels, size_t n, uint64_t hash,
                               sluice_status* err) {
  absl::MutexLock lock(&mu_);
  Index* index = tables_.back().get();
  // Another thread may have created it between our probe and the lock.
  for (size_t i = hash & index->mask;; i = (i + 1) & index->mask) {
    Series* s = index->slots[i].load(kRelaxed);
    if (s == nullptr)
      break;
    bool same = s->hash == hash;
    for (size_t k = 0; k < n && same; ++k)
      same = View(labels[k]) == s->values[k];
    if (same)
      return s;
  }
  if (series_.size() >= kMaxSeries) {
    *err = SLUICE_ERR_LIMIT;
    return nullptr;
  }
  auto s = std::make_unique<Series>();
  s->hash = hash;
  for (size_t k = 0; k < n; ++k) {
    s->values.emplace_back(View(labels[k]));
    if (k > 0)
      s->text.push_back(',');
    absl::StrAppend(&s->text, labels_[k], "=\"");
    AppendLabelValue(s->values.back(), &s->text);
    s->text.push_back('"');
  }
  s->lines = std::make_unique<Line[]>(ShardCount() * lines_);
  Series* raw = s.get();
  series_.push_back(std::move(s));

  // Keep the load at most one half so probes stay short; a grown table is filled completely
  // before readers can see it.
  if ((index->used + 1) * 2 > index->mask + 1) {
    auto grown = std::make_unique<Index>((index->mask + 1) * 2);
    for (const auto& old : series_) {
      size_t i = old->hash & grown->mask;
      while (grown->slots[i].load(kRelaxed) != nullptr)
        i = (i + 1) & grown->mask;
      grown->slots[i].store(old.get(), kRelaxed);
    }
    grown->used = series_.size();
    index_.store(grown.get(), std::memory_order_release);
    tables_.push_back(std::move(grown));
    return raw;
  }
  size_t i = hash & index->mask;
  while (index->slots[i].load(kRelaxed) != nullptr)
    i = (i + 1) & index->mask;
  index->slots[i].store(raw, std::memory_order_release);
  ++index->used;
  return raw;
}

sluice_status Metric::Add(const sluice_str* labels, size_t n, double delta) {
  if (kind_ == SLUICE_METRIC_HISTOGRAM || std::isnan(delta) ||
      (kind_ == SLUICE_METRIC_COUNTER && !(delta >= 0))) {
    return SLUICE_ERR_INVALID;
  }
  sluice_status err = SLUICE_OK;
  Series* s = Find(labels, n, &err);
  if (s == nullptr)
    return err;
  if (kind_ == SLUICE_METRIC_GAUGE) {
    s->gauge.fetch_add(delta, kRelaxed);
  } else {
    AddDouble(&s->lines[ThreadShard() * lines_].cell[0], delta);
  }
  return SLUICE_OK;
}

sluice_status Metric::Set(const sluice_str* labels, size_t n, double value) {
  if (kind_ != SLUICE_METRIC_GAUGE || std::isnan(value))
    return SLUICE_ERR_INVALID;
  sluice_status err = SLUICE_OK;
  Series* s = Find(labels, n, &err);
  if (s == nullptr)
    return err;
  s->gauge.store(value, kRelaxed);
  return SLUICE_OK;
}

sluice_status Metric::Observe(const sluice_str* labels, size_t n, double value) {
  if (kind_ != SLUICE_METRIC_HISTOGRAM || std::isnan(value))
    return SLUICE_ERR_INVALID;
  sluice_status err = SLUICE_OK;
  Series* s = Find(labels, n, &err);
  if (s == nullptr)
    return err;
  const size_t bucket =
      std::lower_bound(buckets_.begin(), buckets_.end(), value) - buckets_.begin();
  Line* shard = &s->lines[ThreadShard() * lines_];
  const size_t sum = buckets_.size() + 1;
  shard[bucket / 8].cell[bucket % 8].fetch_add(1, kRelaxed);
  AddDouble(&shard[sum / 8].cell[sum % 8], value);
  return SLUICE_OK;
}

void Metric::Render(std::string* out) const {
  static constexpr const char* kTypes[] = {"counter", "gauge", "histogram"};
  std::vector<const Series*> all;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& s : series_)
      all.push_back(s.get());
  }
  // Series are never freed before the metric, so they can be read after the lock.
  if (all.empty())
    return;
  std::sort(all.begin(), all.end(),
            [](const Series* a, const Series* b) { return a->text < b->text; });
  absl::StrAppend(out, "# HELP ", name_, " ");
  AppendHelp(help_, out);
  absl::StrAppend(out, "\n# TYPE ", name_, " ", kTypes[kind_], "\n");
  const size_t shards = ShardCount();
  // Sums cell `c` of a series over every shard.
  const auto cell = [&](const Series& s, size_t c) {
    uint64_t total = 0;
    for (size_t k = 0; k < shards; ++k)
      total += s.lines[k * lines_ + c / 8].cell[c % 8].load(kRelaxed);
    return total;
  };
  const auto cell_double = [&](const Series& s, size_t c) {
    double total = 0;
    for (size_t k = 0; k < shards; ++k)
      total += LoadDouble(s.lines[k * lines_ + c / 8].cell[c % 8]);
    return total;
  };
  for (const Series* s : all) {
    const std::string& key = s->text;
    const std::string braces = key.empty() ? "" : absl::StrCat("{", key, "}");
    if (kind_ != SLUICE_METRIC_HISTOGRAM) {
      double v = kind_ == SLUICE_METRIC_GAUGE ? s->gauge.load(kRelaxed) : cell_double(*s, 0);
      absl::StrAppend(out, name_, braces, " ", Number(v), "\n");
      continue;
    }
    // _count is the +Inf bucket, so the two always agree even while samples arrive.
    uint64_t cumulative = 0;
    const std::string sep = key.empty() ? "" : ",";
    for (size_t i = 0; i <= buckets_.size(); ++i) {
      cumulative += cell(*s, i);
      std::string le = i < buckets_.size() ? Number(buckets_[i]) : "+Inf";
      absl::StrAppend(out, name_, "_bucket{", key, sep, "le=\"", le, "\"} ", cumulative, "\n");
    }
    absl::StrAppend(out, name_, "_sum", braces, " ", Number(cell_double(*s, buckets_.size() + 1)),
                    "\n", name_, "_count", braces, " ", cumulative, "\n");
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
    if (!ValidName(l, true) || (desc.kind == SLUICE_METRIC_HISTOGRAM && l == "le") ||
        std::find(labels.begin(), labels.end(), l) != labels.end()) {
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
    for (size_t i = 0; i < buckets.size(); ++i) {
      if (!std::isfinite(buckets[i]) || (i > 0 && !(buckets[i] > buckets[i - 1]))) {
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
  // A histogram also writes NAME_bucket, NAME_sum and NAME_count: no other metric may use them.
  for (absl::string_view suffix : {"_bucket", "_sum", "_count"}) {
    bool taken = false;
    if (desc.kind == SLUICE_METRIC_HISTOGRAM) {
      taken = metrics_.count(absl::StrCat(name, suffix)) > 0;
    } else if (absl::EndsWith(name, suffix)) {
      auto h = metrics_.find(name.substr(0, name.size() - suffix.size()));
      taken = h != metrics_.end() && h->second->kind() == SLUICE_METRIC_HISTOGRAM;
    }
    if (taken) {
      return absl::InvalidArgumentError(
          absl::StrCat("metric ", name, " clashes with the series of a histogram"));
    }
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
