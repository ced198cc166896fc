// SPDX-License-Identifier: Apache-2.0
// The host's metric store: exact totals under concurrent recording from several threads,
// concurrent series creation, the series limit, and a text exposition that promtool accepts.
#include "core/filter_host/metrics.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

namespace sluice::filter_host {
namespace {

// A view of `s`, which must outlive it (literals do).
sluice_str S(std::string_view s) { return {s.data(), s.size()}; }

Metric* Define(Metrics* metrics, sluice_metric_kind kind, const std::string& name,
               std::vector<std::string> labels, std::vector<double> buckets = {},
               const std::string& help = "Help.") {
  std::vector<sluice_str> names;
  for (const std::string& l : labels)
    names.push_back(S(l));
  sluice_metric_desc d{};
  d.struct_size = sizeof d;
  d.kind = kind;
  d.name = S(name);
  d.help = S(help);
  d.label_names = names.empty() ? nullptr : names.data();
  d.label_count = names.size();
  d.buckets = buckets.empty() ? nullptr : buckets.data();
  d.bucket_count = buckets.size();
  absl::StatusOr<Metric*> m = metrics->Define(d);
  REQUIRE(m.ok());
  return *m;
}

// The value of the sample line that starts with `series` + " ", or "" when absent.
std::string Sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0)
      return line.substr(series.size() + 1);
  }
  return "";
}

struct PromtoolResult {
  int exit_code = -1;
  std::string output;
};

// Pipes `text` through `promtool check metrics` (exit 0: parses and lints clean; 1: a format
// error; 3: lint problems only).
PromtoolResult Promtool(const std::string& text) {
  char in_path[] = "/tmp/sluice-metrics-XXXXXX";
  const int fd = mkstemp(in_path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  close(fd);
  const std::string out_path = std::string(in_path) + ".out";
  const std::string cmd =
      "promtool check metrics < " + std::string(in_path) + " > " + out_path + " 2>&1";
  const int status = std::system(cmd.c_str());
  PromtoolResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream out(out_path);
  r.output.assign(std::istreambuf_iterator<char>(out), std::istreambuf_iterator<char>());
  unlink(in_path);
  unlink(out_path.c_str());
  return r;
}

TEST_CASE("filter_host metrics: concurrent recording gives exact totals", "[filter_host]") {
  Metrics metrics;
  Metric* counter = Define(&metrics, SLUICE_METRIC_COUNTER, "t_requests_total", {"code"});
  Metric* gauge = Define(&metrics, SLUICE_METRIC_GAUGE, "t_in_flight", {});
  Metric* hist = Define(&metrics, SLUICE_METRIC_HISTOGRAM, "t_latency_seconds", {"code"}, {1, 10});
  constexpr int kThreads = 6;  // more than the shards of a small machine: shared shards too
  constexpr int kIterations = 20000;
  const std::string codes[] = {"200", "404", "500"};
  std::atomic<int> failures{0};  // Catch2 assertions are not thread-safe: count, check later
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIterations; ++i) {
        sluice_str code = S(codes[(i + t) % 3]);
        failures += counter->Add(&code, 1, 1) != SLUICE_OK;
        failures += gauge->Add(nullptr, 0, 2) != SLUICE_OK;
        failures += hist->Observe(&code, 1, i % 20) != SLUICE_OK;  // 2 of 0..19 <= 1, 11 <= 10
      }
    });
  }
  for (std::thread& t : threads)
    t.join();
  CHECK(failures == 0);
  const std::string text = metrics.Render();
  INFO(text);
  // 6 threads x 20000 spread evenly (20000 is not a multiple of 3: count per code exactly).
  int per_code[3] = {};
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kIterations; ++i)
      ++per_code[(i + t) % 3];
  }
  CHECK(Sample(text, "t_requests_total{code=\"200\"}") == std::to_string(per_code[0]));
  CHECK(Sample(text, "t_requests_total{code=\"404\"}") == std::to_string(per_code[1]));
  CHECK(Sample(text, "t_requests_total{code=\"500\"}") == std::to_string(per_code[2]));
  CHECK(Sample(text, "t_in_flight") == std::to_string(2 * kThreads * kIterations));
  // Across all codes: every thread observes 0..19 exactly 1000 times each.
  uint64_t le1 = 0, le10 = 0, all = 0;
  for (const std::string& code : codes) {
    const std::string l = "{code=\"" + code + "\",le=\"";
    le1 += std::stoull(Sample(text, "t_latency_seconds_bucket" + l + "1\"}"));
    le10 += std::stoull(Sample(text, "t_latency_seconds_bucket" + l + "10\"}"));
    all += std::stoull(Sample(text, "t_latency_seconds_bucket" + l + "+Inf\"}"));
    CHECK(Sample(text, "t_latency_seconds_count{code=\"" + code + "\"}") ==
          Sample(text, "t_latency_seconds_bucket" + l + "+Inf\"}"));
  }
  CHECK(le1 == 2u * kThreads * 1000);
  CHECK(le10 == 11u * kThreads * 1000);
  CHECK(all == 1u * kThreads * kIterations);
  double sum = 0;
  for (const std::string& code : codes)
    sum += std::stod(Sample(text, "t_latency_seconds_sum{code=\"" + code + "\"}"));
  CHECK(sum == 190.0 * kThreads * 1000);  // (0 + ... + 19) per 20 samples
  const PromtoolResult check = Promtool(text);
  INFO(check.output);
  CHECK(check.exit_code == 0);
}

TEST_CASE("filter_host metrics: series created concurrently exist once each", "[filter_host]") {
  Metrics metrics;
  Metric* counter = Define(&metrics, SLUICE_METRIC_COUNTER, "t_hits_total", {"key", "kind"});
  constexpr int kThreads = 4;
  constexpr int kKeys = 700;  // grows the lookup table several times while threads probe it
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kKeys; ++i) {
        // Each thread walks the keys in its own order so creations race.
        const std::string key = std::to_string((i * (t + 1) * 7919) % kKeys);
        sluice_str labels[] = {S(key), S("k")};
        failures += counter->Add(labels, 2, 1) != SLUICE_OK;
      }
    });
  }
  for (std::thread& t : threads)
    t.join();
  CHECK(failures == 0);
  const std::string text = metrics.Render();
  size_t series = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    series += line.rfind("t_hits_total{", 0) == 0 ? 1 : 0;
  CHECK(series == kKeys);
  // Some keys repeat within one thread's walk, so count the visits the same way.
  std::vector<int> expected(kKeys);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kKeys; ++i)
      ++expected[(i * (t + 1) * 7919) % kKeys];
  }
  for (int k : {0, 1, 350, 699}) {
    CHECK(Sample(text, "t_hits_total{key=\"" + std::to_string(k) + "\",kind=\"k\"}") ==
          std::to_string(expected[k]));
  }
}

TEST_CASE("filter_host metrics: the series limit per metric", "[filter_host]") {
  Metrics metrics;
  Metric* counter = Define(&metrics, SLUICE_METRIC_COUNTER, "t_limited_total", {"id"});
  for (size_t i = 0; i < Metric::kMaxSeries; ++i) {
    const std::string id = std::to_string(i);
    sluice_str v = S(id);
    REQUIRE(counter->Add(&v, 1, 1) == SLUICE_OK);
  }
  sluice_str extra = S("one-more");
  CHECK(counter->Add(&extra, 1, 1) == SLUICE_ERR_LIMIT);
  sluice_str known = S("42");
  CHECK(counter->Add(&known, 1, 2) == SLUICE_OK);  // existing series still record
  const std::string text = metrics.Render();
  CHECK(Sample(text, "t_limited_total{id=\"42\"}") == "3");
  CHECK(Sample(text, "t_limited_total{id=\"one-more\"}").empty());
}

TEST_CASE("filter_host metrics: text format details", "[filter_host]") {
  Metrics metrics;
  Metric* gauge =
      Define(&metrics, SLUICE_METRIC_GAUGE, "t_info", {"name"}, {}, "Line one\nback\\slash");
  Define(&metrics, SLUICE_METRIC_COUNTER, "t_unused_total", {"a"});
  Metric* hist = Define(&metrics, SLUICE_METRIC_HISTOGRAM, "t_size_bytes", {}, {0.5, 100});

  SECTION("escaping, invalid UTF-8 and shortest numbers") {
    const std::string raw = std::string("q\"b\\n\nx\xff") + "\xc3\xa9";
    sluice_str v = S(raw);
    REQUIRE(gauge->Set(&v, 1, 0.1) == SLUICE_OK);
    REQUIRE(hist->Observe(nullptr, 0, 0.25) == SLUICE_OK);
    REQUIRE(hist->Observe(nullptr, 0, 1e6) == SLUICE_OK);
    const std::string text = metrics.Render();
    CHECK(text ==
          "# HELP t_info Line one\\nback\\\\slash\n"
          "# TYPE t_info gauge\n"
          "t_info{name=\"q\\\"b\\\\n\\nx\xEF\xBF\xBD\xc3\xa9\"} 0.1\n"
          "# HELP t_size_bytes Help.\n"
          "# TYPE t_size_bytes histogram\n"
          "t_size_bytes_bucket{le=\"0.5\"} 1\n"
          "t_size_bytes_bucket{le=\"100\"} 1\n"
          "t_size_bytes_bucket{le=\"+Inf\"} 2\n"
          "t_size_bytes_sum 1000000.25\n"
          "t_size_bytes_count 2\n");
    const PromtoolResult check = Promtool(text);
    INFO(check.output);
    CHECK(check.exit_code == 0);
  }

  SECTION("a gauge is set, added to and may go negative") {
    sluice_str v = S("g");
    REQUIRE(gauge->Set(&v, 1, 5) == SLUICE_OK);
    REQUIRE(gauge->Add(&v, 1, -7.5) == SLUICE_OK);
    CHECK(Sample(metrics.Render(), "t_info{name=\"g\"}") == "-2.5");
  }

  SECTION("operations that do not fit the kind or value") {
    sluice_str v = S("x");
    CHECK(gauge->Observe(&v, 1, 1) == SLUICE_ERR_INVALID);
    CHECK(gauge->Set(&v, 1, std::nan("")) == SLUICE_ERR_INVALID);
    CHECK(hist->Add(nullptr, 0, 1) == SLUICE_ERR_INVALID);
    CHECK(hist->Observe(nullptr, 0, std::nan("")) == SLUICE_ERR_INVALID);
    CHECK(hist->Observe(&v, 1, 1) == SLUICE_ERR_INVALID);  // label count
    CHECK(gauge->Add(nullptr, 1, 1) == SLUICE_ERR_INVALID);
    CHECK(metrics.Render().empty());  // nothing recorded: no family is written
  }
}

TEST_CASE("filter_host metrics: definitions that are refused", "[filter_host]") {
  Metrics metrics;
  Define(&metrics, SLUICE_METRIC_HISTOGRAM, "t_latency", {});
  std::string name;
  std::vector<sluice_str> labels;
  std::vector<double> buckets;
  sluice_metric_kind kind = SLUICE_METRIC_COUNTER;
  std::string expected;
  SECTION("a histogram's series name") {
    name = "t_latency_count";
    expected = "metric t_latency_count clashes with the series of a histogram";
  }
  SECTION("a histogram over an existing series name") {
    Define(&metrics, SLUICE_METRIC_COUNTER, "t_other_sum", {});
    name = "t_other";
    kind = SLUICE_METRIC_HISTOGRAM;
    expected = "metric t_other clashes with the series of a histogram";
  }
  SECTION("a repeated label") {
    name = "t_x_total";
    labels = {S("a"), S("a")};
    expected = "metric t_x_total: bad label 'a'";
  }
  SECTION("a reserved label") {
    name = "t_x_total";
    labels = {S("__a")};
    expected = "metric t_x_total: bad label '__a'";
  }
  SECTION("buckets out of order or infinite") {
    name = "t_h";
    kind = SLUICE_METRIC_HISTOGRAM;
    SECTION("descending") { buckets = {2, 1}; }
    SECTION("infinite") { buckets = {1, HUGE_VAL}; }
    expected = "metric t_h: buckets not ascending";
  }
  sluice_metric_desc d{};
  d.struct_size = sizeof d;
  d.kind = kind;
  d.name = S(name);
  d.label_names = labels.empty() ? nullptr : labels.data();
  d.label_count = labels.size();
  d.buckets = buckets.empty() ? nullptr : buckets.data();
  d.bucket_count = buckets.size();
  CHECK(metrics.Define(d).status().message() == expected);
}

}  // namespace
}  // namespace sluice::filter_host
