// SPDX-License-Identifier: Apache-2.0
// Loads filter modules: `plugins: - name: X` means `<filters dir>/X.so`, opened once with
// RTLD_NOW | RTLD_LOCAL, checked against the ABI (entry symbol, versions, descriptor) and never
// unloaded. Main thread only.
#pragma once

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include <sluice/filter.h>

namespace sluice::filter_host {

// One loaded module. `desc` is the host's copy of the module's descriptor: fields past the
// module's struct_size read as zero (NULL hooks), so the host never reads beyond what the
// module declared.
struct Module {
  std::string name;  // plugin name = file name without ".so"
  std::string path;  // the file that was opened
  void* handle = nullptr;
  sluice_filter_descriptor desc{};
};

// The size of the 1.0 descriptor: the smallest a v1 module may declare.
inline constexpr size_t kDescriptorSizeV1_0 = sizeof(sluice_filter_descriptor);

class Loader {
 public:
  // `filters_dir` is where X.so files live; `host` is handed to every module's entry symbol and
  // must outlive the process's modules (it is process-owned).
  Loader(std::string filters_dir, const sluice_host_api* host);

  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // Returns the module for plugin `name`, loading it on first use. Failures are remembered,
  // so each name is tried once. Errors (lower-case, context first) name the plugin and file:
  //   plugin 'x': <dir>/x.so not found; filters in <dir>: a.so, b.so
  //   plugin 'x': <dir>/x.so is not a sluice filter (no sluice_filter_module_v1 symbol)
  //   plugin 'x': <dir>/x.so was built for filter ABI 2.0, this sluice supports 1.0
  //   plugin 'x': <dir>/x.so: invalid descriptor: <why>
  absl::StatusOr<const Module*> Load(absl::string_view name);

  const std::string& dir() const { return dir_; }

 private:
  absl::StatusOr<std::unique_ptr<Module>> Open(const std::string& name);
  std::string MissingFileMessage(const std::string& name, const std::string& path) const;

  std::string dir_;
  const sluice_host_api* host_;
  absl::flat_hash_map<std::string, std::unique_ptr<Module>> modules_;
  absl::flat_hash_map<std::string, absl::Status> failures_;
};

// Checks a descriptor copy against the v1 rules; "" when valid, else the reason.
std::string CheckDescriptor(const sluice_filter_descriptor& desc, uint32_t declared_size,
                            absl::string_view file_name);

}  // namespace sluice::filter_host
