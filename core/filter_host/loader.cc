// SPDX-License-Identifier: Apache-2.0
#include "core/filter_host/loader.h"

#include <algorithm>
#include <cstring>
#include <dirent.h>
#include <dlfcn.h>
#include <sys/stat.h>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

#include "core/common/log.h"

namespace sluice::filter_host {
namespace {

bool ValidPluginName(absl::string_view name) {
  if (name.empty() || name.size() > 128)
    return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok)
      return false;
  }
  return true;
}

std::string Version(int major, int minor) { return absl::StrCat(major, ".", minor); }

}  // namespace

Loader::Loader(std::string filters_dir, const sluice_host_api* host)
    : dir_(std::move(filters_dir)), host_(host) {
  while (dir_.size() > 1 && dir_.back() == '/')
    dir_.pop_back();
}

absl::StatusOr<const Module*> Loader::Load(absl::string_view name) {
  std::string key(name);
  if (auto it = modules_.find(key); it != modules_.end())
    return it->second.get();
  if (auto it = failures_.find(key); it != failures_.end())
    return it->second;
  absl::StatusOr<std::unique_ptr<Module>> opened = Open(key);
  if (!opened.ok()) {
    failures_.emplace(key, opened.status());
    return opened.status();
  }
  const Module* m = opened->get();
  modules_.emplace(key, std::move(*opened));
  log::Info(
      "loaded filter %s %s from %s (abi %d.%d)", m->name,
      std::string(m->desc.version.data == nullptr ? "" : m->desc.version.data, m->desc.version.len),
      m->path, m->desc.abi_major, m->desc.abi_minor);
  return m;
}

std::string Loader::MissingFileMessage(const std::string& name, const std::string& path) const {
  std::string prefix = absl::StrCat("plugin '", name, "': ", path, " not found; ");
  DIR* d = opendir(dir_.c_str());
  if (d == nullptr)
    return absl::StrCat(prefix, "filters dir ", dir_, " does not exist");
  std::vector<std::string> found;
  while (dirent* e = readdir(d)) {
    absl::string_view f = e->d_name;
    if (f.size() > 3 && f.substr(f.size() - 3) == ".so")
      found.emplace_back(f);
  }
  closedir(d);
  if (found.empty())
    return absl::StrCat(prefix, dir_, " holds no filters");
  std::sort(found.begin(), found.end());
  return absl::StrCat(prefix, "filters in ", dir_, ": ", absl::StrJoin(found, ", "));
}

absl::StatusOr<std::unique_ptr<Module>> Loader::Open(const std::string& name) {
  if (!ValidPluginName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("plugin '", name, "': invalid name (letters, digits, '-' and '_' only)"));
  }
  std::string path = absl::StrCat(dir_, "/", name, ".so");
  std::string ctx = absl::StrCat("plugin '", name, "': ", path);
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::NotFoundError(MissingFileMessage(name, path));
  }
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (handle == nullptr) {
    const char* err = dlerror();
    return absl::FailedPreconditionError(
        absl::StrCat(ctx, ": cannot load: ", err == nullptr ? "unknown error" : err));
  }
  // From here on the handle is never closed: RTLD_NODELETE keeps the code mapped, so a module
  // that leaves threads or atexit handlers behind cannot crash the process by unloading.
  auto entry = reinterpret_cast<sluice_filter_module_fn>(dlsym(handle, SLUICE_FILTER_ENTRY_SYMBOL));
  if (entry == nullptr) {
    for (int major = 0; major <= 16; ++major) {
      if (major == SLUICE_ABI_VERSION_MAJOR)
        continue;
      std::string sym = absl::StrCat("sluice_filter_module_v", major);
      if (dlsym(handle, sym.c_str()) != nullptr) {
        return absl::FailedPreconditionError(absl::StrCat(
            ctx, " was built for filter ABI ", major, ".x (", sym, "), this sluice supports ",
            Version(SLUICE_ABI_VERSION_MAJOR, SLUICE_ABI_VERSION_MINOR)));
      }
    }
    return absl::FailedPreconditionError(
        absl::StrCat(ctx, " is not a sluice filter (no ", SLUICE_FILTER_ENTRY_SYMBOL, " symbol)"));
  }
  const sluice_filter_descriptor* d = entry(host_);
  if (d == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(ctx, " refused to load (its entry symbol returned no descriptor)"));
  }
  // The first three fields are frozen in every major version, so they can be read before the
  // size check.
  if (d->struct_size < offsetof(sluice_filter_descriptor, name)) {
    return absl::FailedPreconditionError(
        absl::StrCat(ctx, ": invalid descriptor: struct_size ", d->struct_size, " is too small"));
  }
  if (d->abi_major != SLUICE_ABI_VERSION_MAJOR || d->abi_minor > SLUICE_ABI_VERSION_MINOR) {
    return absl::FailedPreconditionError(absl::StrCat(
        ctx, " was built for filter ABI ", Version(d->abi_major, d->abi_minor),
        ", this sluice supports ", Version(SLUICE_ABI_VERSION_MAJOR, SLUICE_ABI_VERSION_MINOR)));
  }
  auto m = std::make_unique<Module>();
  m->name = name;
  m->path = path;
  m->handle = handle;
  std::memcpy(&m->desc, d, std::min<size_t>(d->struct_size, sizeof m->desc));
  std::string why = CheckDescriptor(m->desc, d->struct_size, name);
  if (!why.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(ctx, ": invalid descriptor: ", why));
  }
  return m;
}

std::string CheckDescriptor(const sluice_filter_descriptor& d, uint32_t declared_size,
                            absl::string_view file_name) {
  if (declared_size < kDescriptorSizeV1_0) {
    return absl::StrFormat("struct_size %u is smaller than the 1.0 descriptor (%u bytes)",
                           declared_size, static_cast<unsigned>(kDescriptorSizeV1_0));
  }
  absl::string_view name(d.name.data == nullptr ? "" : d.name.data,
                         d.name.data == nullptr ? 0 : d.name.len);
  if (name.empty())
    return "name is empty";
  if (name != file_name) {
    return absl::StrCat("name '", name, "' does not match the file name '", file_name, ".so'");
  }
  if (d.version.len > 0 && d.version.data == nullptr)
    return "version has no data";
  if (d.on_config_new == nullptr)
    return "on_config_new is missing";
  if (d.on_config_destroy == nullptr)
    return "on_config_destroy is missing";
  uint64_t known = SLUICE_CAP_REQUEST_BODY | SLUICE_CAP_RESPONSE_BODY;
  if ((d.capabilities & ~known) != 0) {
    return absl::StrFormat("unknown capability bits 0x%x",
                           static_cast<unsigned long long>(d.capabilities & ~known));
  }
  bool req_cap = (d.capabilities & SLUICE_CAP_REQUEST_BODY) != 0;
  bool resp_cap = (d.capabilities & SLUICE_CAP_RESPONSE_BODY) != 0;
  if (req_cap != (d.on_request_body != nullptr)) {
    return req_cap ? "capability request-body without on_request_body"
                   : "on_request_body without capability request-body";
  }
  if (resp_cap != (d.on_response_body != nullptr)) {
    return resp_cap ? "capability response-body without on_response_body"
                    : "on_response_body without capability response-body";
  }
  if ((d.on_worker_new == nullptr) != (d.on_worker_destroy == nullptr)) {
    return "on_worker_new and on_worker_destroy must both be set or both be NULL";
  }
  if (d.on_request_new == nullptr && d.on_request_destroy != nullptr) {
    return "on_request_destroy without on_request_new";
  }
  return "";
}

}  // namespace sluice::filter_host
