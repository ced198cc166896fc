// SPDX-License-Identifier: Apache-2.0
// The declarative loader: parses the document, walks the top-level keys, then resolves
// references, checks uniqueness and assembles the Config (see loader.h).
#include "core/config/loader.h"

#include <cerrno>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <system_error>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include "core/config/entities.h"
#include "core/config/yaml_reader.h"

namespace sluice::config {
namespace {

using internal::Diagnostics;
using internal::Document;
using internal::Field;
using internal::Ref;

constexpr absl::string_view kParseError = "failed parsing declarative configuration: ";

// Looks entities up by their endpoint key (name / username) first, then by id, as Kong's
// find_entity() does.
class Lookup {
 public:
  explicit Lookup(std::string table) : table_(std::move(table)) {}

  // Registers entity `index`; reports a second entity with the same key as Kong does. Returns
  // false when `key` was already taken.
  bool AddKey(Diagnostics& diag, absl::string_view field, const std::string& key, int index,
              const YAML::Mark& mark, const std::string& where) {
    if (key.empty()) {
      return true;
    }
    if (!by_key_.emplace(key, index).second) {
      diag.Add(mark, Field(where, field),
               absl::StrCat("uniqueness violation: '", table_, "' entity with ", field, " set to '",
                            key, "' already declared"));
      return false;
    }
    return true;
  }

  void AddId(Diagnostics& diag, const std::string& id, int index, bool report,
             const YAML::Mark& mark, const std::string& where) {
    if (!by_id_.emplace(id, index).second && report) {
      diag.Add(mark, where,
               absl::StrCat("uniqueness violation: '", table_, "' entity with primary key set to '",
                            id, "' already declared"));
    }
  }

  // Resolves `ref`; reports Kong's invalid-reference error when nothing matches.
  int Resolve(Diagnostics& diag, const Ref& ref) const {
    if (!ref.present) {
      return -1;
    }
    if (auto it = by_key_.find(ref.value); it != by_key_.end()) {
      return it->second;
    }
    if (auto it = by_id_.find(ref.value); it != by_id_.end()) {
      return it->second;
    }
    diag.Add(ref.mark, ref.where,
             absl::StrCat("invalid reference '", ref.field, ": ", ref.shown,
                          "' (no such entry in '", table_, "')"));
    return -1;
  }

 private:
  std::string table_;
  absl::flat_hash_map<std::string, int> by_key_;
  absl::flat_hash_map<std::string, int> by_id_;
};

// Registers endpoint keys and ids of one entity table. A derived id that clashes only because
// the key clashed is not reported twice.
template <typename Pending, typename KeyFn>
Lookup IndexTable(Diagnostics& diag, const std::string& table, absl::string_view key_field,
                  std::vector<Pending>& entities, KeyFn key_of) {
  Lookup lookup(table);
  for (size_t i = 0; i < entities.size(); ++i) {
    Pending& e = entities[i];
    auto [key, key_mark] = key_of(e);
    bool key_ok = lookup.AddKey(diag, key_field, key, static_cast<int>(i), key_mark, e.where);
    YAML::Mark id_mark = e.id_given ? e.id_mark : key_mark;
    lookup.AddId(diag, e.value.id, static_cast<int>(i), key_ok || e.id_given, id_mark,
                 e.id_given ? Field(e.where, "id") : e.where);
  }
  return lookup;
}

void ParseTopLevel(Diagnostics& diag, const YAML::Node& root, Document* doc) {
  internal::Record rec(diag, root, "");
  if (const YAML::Node* v = rec.Take("_format_version")) {
    if (auto version = internal::ReadOneOf(diag, *v, "_format_version", {"1.1", "2.1", "3.0"})) {
      doc->legacy_paths = *version != "3.0";
    }
  } else {
    diag.Add(root.Mark(), "_format_version", "required field missing");
  }
  rec.Bool("_transform");
  rec.String("_comment");
  if (const YAML::Node* v = rec.Take("_ignore"); v != nullptr && !v->IsSequence()) {
    diag.Add(v->Mark(), "_ignore", "expected an array");
  }

  const internal::Parent none;
  auto each = [&](absl::string_view key,
                  const std::function<void(const YAML::Node&, const std::string&)>& fn) {
    if (const YAML::Node* v = rec.Take(key)) {
      internal::ForEachRecord(diag, *v, std::string(key), fn);
    }
  };
  each("services", [&](const YAML::Node& n, const std::string& w) {
    internal::ParseService(diag, *doc, n, w);
  });
  each("routes", [&](const YAML::Node& n, const std::string& w) {
    internal::ParseRoute(diag, *doc, n, w, none);
  });
  each("consumers", [&](const YAML::Node& n, const std::string& w) {
    internal::ParseConsumer(diag, *doc, n, w);
  });
  each("plugins", [&](const YAML::Node& n, const std::string& w) {
    internal::ParsePlugin(diag, *doc, n, w, none);
  });
  each("jwt_secrets", [&](const YAML::Node& n, const std::string& w) {
    internal::ParseJwtSecret(diag, *doc, n, w, none);
  });
  each("upstreams", [&](const YAML::Node& n, const std::string& w) {
    internal::ParseUpstream(diag, *doc, n, w);
  });
  each("targets", [&](const YAML::Node& n, const std::string& w) {
    internal::ParseTarget(diag, *doc, n, w, none);
  });
  // Kong entities sluice does not implement yet: an empty list is harmless, anything else is
  // refused rather than silently ignored.
  for (absl::string_view key : {"certificates", "snis", "ca_certificates", "vaults", "key_sets",
                                "keys", "filter_chains", "workspaces"}) {
    if (const YAML::Node* v = rec.Take(key); v != nullptr && !(v->IsSequence() && v->size() == 0)) {
      diag.Add(v->Mark(), key, "not supported yet");
    }
  }
  rec.Finish();
}

// Plugins that Kong's schema forbids scoping to a consumer (typedefs.no_consumer).
bool NoConsumer(absl::string_view name) {
  return name == "jwt" || name == "cors" || name == "key-auth";
}

void Resolve(Diagnostics& diag, Document& doc) {
  using KeyMark = std::pair<std::string, YAML::Mark>;
  Lookup services =
      IndexTable(diag, "services", "name", doc.services, [](const internal::PendingService& e) {
        return KeyMark{e.value.name, e.name_mark};
      });
  Lookup routes =
      IndexTable(diag, "routes", "name", doc.routes, [](const internal::PendingRoute& e) {
        return KeyMark{e.value.name, e.name_mark};
      });
  Lookup consumers = IndexTable(diag, "consumers", "username", doc.consumers,
                                [](const internal::PendingConsumer& e) {
                                  return KeyMark{e.value.username, e.username_mark};
                                });
  Lookup custom_ids("consumers");
  for (size_t i = 0; i < doc.consumers.size(); ++i) {
    const auto& c = doc.consumers[i];
    custom_ids.AddKey(diag, "custom_id", c.value.custom_id, static_cast<int>(i), c.custom_id_mark,
                      c.where);
  }
  Lookup upstreams =
      IndexTable(diag, "upstreams", "name", doc.upstreams, [](const internal::PendingUpstream& e) {
        return KeyMark{e.value.name, e.name_mark};
      });
  IndexTable(diag, "plugins", "instance_name", doc.plugins, [](const internal::PendingPlugin& e) {
    return KeyMark{e.value.instance_name, e.instance_name_mark};
  });
  IndexTable(diag, "jwt_secrets", "key", doc.jwt_secrets, [](const internal::PendingJwtSecret& e) {
    return KeyMark{e.key_given ? e.value.key : std::string(), e.key_mark};
  });
  Lookup targets("targets");
  for (size_t i = 0; i < doc.targets.size(); ++i) {
    const auto& t = doc.targets[i];
    targets.AddId(diag, t.id, static_cast<int>(i), true, t.id_given ? t.id_mark : t.target_mark,
                  t.id_given ? Field(t.where, "id") : t.where);
  }

  for (auto& r : doc.routes) {
    if (r.service.present) {
      r.value.service = services.Resolve(diag, r.service);
    }
  }
  // Two plugins of the same name on the same (route, service, consumer) scope are ambiguous.
  std::map<std::tuple<std::string, int, int, int>, size_t> scopes;
  for (size_t i = 0; i < doc.plugins.size(); ++i) {
    auto& pp = doc.plugins[i];
    Plugin& p = pp.value;
    if (pp.route.present) {
      p.route = routes.Resolve(diag, pp.route);
    }
    if (pp.service.present) {
      p.service = services.Resolve(diag, pp.service);
    }
    if (pp.consumer.present) {
      p.consumer = consumers.Resolve(diag, pp.consumer);
    }
    if (p.consumer >= 0 && NoConsumer(p.name)) {
      const bool nested = pp.parent.kind == internal::Parent::Kind::kConsumer;
      diag.Add(nested ? pp.name_mark : pp.consumer.mark, nested ? pp.where : pp.consumer.where,
               absl::StrCat("plugin '", p.name, "' cannot be scoped to a consumer"));
    }
    if (p.name.empty()) {
      continue;
    }
    auto [it, inserted] =
        scopes.emplace(std::make_tuple(p.name, p.route, p.service, p.consumer), i);
    if (!inserted && doc.plugins[it->second].value.id != p.id) {
      diag.Add(pp.name_mark, pp.where,
               absl::StrCat("uniqueness violation: 'plugins' entity with name set to '", p.name,
                            "' already declared for the same route, service and consumer"));
    }
  }
  for (auto& j : doc.jwt_secrets) {
    if (j.parent.kind == internal::Parent::Kind::kConsumer) {
      continue;
    }
    int c = consumers.Resolve(diag, j.consumer);
    j.parent.kind = internal::Parent::Kind::kConsumer;
    j.parent.index = c;
  }
  for (auto& t : doc.targets) {
    if (t.parent.kind == internal::Parent::Kind::kUpstream) {
      continue;
    }
    int u = upstreams.Resolve(diag, t.upstream);
    t.parent.kind = internal::Parent::Kind::kUpstream;
    t.parent.index = u;
  }
}

Config Assemble(Document& doc, const std::string& file_name) {
  Config config;
  config.format_version = "3.0";
  config.source_file = file_name;
  for (auto& s : doc.services) {
    config.services.push_back(std::move(s.value));
  }
  for (auto& r : doc.routes) {
    config.routes.push_back(std::move(r.value));
  }
  for (auto& p : doc.plugins) {
    config.plugins.push_back(std::move(p.value));
  }
  for (auto& c : doc.consumers) {
    config.consumers.push_back(std::move(c.value));
  }
  for (auto& u : doc.upstreams) {
    config.upstreams.push_back(std::move(u.value));
  }
  for (auto& j : doc.jwt_secrets) {
    if (j.parent.index >= 0) {
      config.consumers[j.parent.index].jwt_secrets.push_back(std::move(j.value));
    }
  }
  for (auto& t : doc.targets) {
    if (t.parent.index >= 0) {
      config.upstreams[t.parent.index].targets.push_back(std::move(t.value));
    }
  }
  return config;
}

}  // namespace

LoadResult LoadString(absl::string_view text, const std::string& file_name) {
  LoadResult result;
  Diagnostics diag(file_name);
  // Nothing may escape: yaml-cpp reports syntax errors (and a few accessor misuses) by throwing.
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(std::string(text));
    if (docs.empty() || !docs[0].IsMap()) {
      Mark mark{1, 1};
      if (!docs.empty()) {
        mark = internal::ToMark(docs[0].Mark());
      }
      diag.Add(mark, "", absl::StrCat(kParseError, "expected an object"));
    } else if (docs.size() > 1) {
      diag.Add(docs[1].Mark(), "", absl::StrCat(kParseError, "expected a single document"));
    } else {
      Document doc;
      ParseTopLevel(diag, docs[0], &doc);
      Resolve(diag, doc);
      result.config = Assemble(doc, file_name);
    }
  } catch (const YAML::DeepRecursion& e) {
    diag.Add(e.mark, "", absl::StrCat(kParseError, "nesting too deep"));
  } catch (const YAML::Exception& e) {
    diag.Add(e.mark, "", absl::StrCat(kParseError, e.msg));
  } catch (const std::exception& e) {
    diag.Add(Mark{}, "", absl::StrCat(kParseError, e.what()));
  } catch (...) {
    diag.Add(Mark{}, "", absl::StrCat(kParseError, "unexpected error"));
  }
  result.errors = diag.TakeSorted();
  return result;
}

LoadResult LoadFile(const std::string& path) {
  auto fail = [&path](absl::string_view reason) {
    LoadResult result;
    result.errors.push_back(Error{path, Mark{}, absl::StrCat("cannot read file: ", reason)});
    return result;
  };
  std::string text;
  try {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      return fail("is a directory");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in.is_open()) {
      std::string reason = std::generic_category().message(errno);
      if (!reason.empty()) {
        reason[0] = absl::ascii_tolower(static_cast<unsigned char>(reason[0]));
      }
      return fail(reason);
    }
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) {
      return fail("read error");
    }
  } catch (...) {
    return fail("read error");
  }
  return LoadString(text, path);
}

}  // namespace sluice::config
