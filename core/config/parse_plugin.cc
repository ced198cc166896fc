// SPDX-License-Identifier: Apache-2.0
// Parsers for plugins, consumers and jwt_secrets (kong/db/schema/entities/plugins.lua,
// consumers.lua, kong/plugins/jwt/daos.lua). A plugin's `config:` is kept as JSON text; the
// filter named by `name` validates it later.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/config/entities.h"
#include "core/config/field_checks.h"
#include "core/config/scalar.h"
#include "core/config/uuid.h"

namespace sluice::config::internal {
namespace {

// Kong's constants.PROTOCOLS (a plugin may list any of them).
constexpr std::initializer_list<absl::string_view> kProtocols = {
    "grpc", "grpcs", "http", "https", "tcp", "tls", "tls_passthrough", "udp"};

bool ParsesAsPublicKey(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) {
    return false;
  }
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) {
    return false;
  }
  EVP_PKEY_free(key);
  return true;
}

// The component a scope field contributes to Kong's plugin cache key: the parent's id when the
// plugin is nested under that kind of entity, else the reference as written, else "".
std::string CacheKeyPart(const Parent& parent, Parent::Kind kind, const Ref& ref) {
  if (parent.kind == kind) {
    return parent.id;
  }
  return ref.present ? ref.value : std::string();
}

}  // namespace

void ParsePlugin(Diagnostics& diag, Document& doc, const YAML::Node& node, const std::string& where,
                 const Parent& parent) {
  Record rec(diag, node, where);
  PendingPlugin pp;
  pp.where = where;
  pp.parent = parent;
  Plugin& p = pp.value;
  p.mark = ToMark(node.Mark());
  rec.AcceptEntityExtras();
  pp.id_given = ReadId(rec, &p.id, &pp.id_mark);

  pp.name_mark = rec.ValueMark("name");
  if (!rec.Has("name")) {
    rec.Missing("name");
  }
  if (auto name = rec.String("name")) {
    p.name = *name;
  }
  pp.instance_name_mark = rec.ValueMark("instance_name");
  if (auto name = rec.String("instance_name")) {
    if (auto err = CheckUtf8Name(*name)) {
      rec.Error("instance_name", *err);
    } else {
      p.instance_name = *name;
    }
  }

  if (const YAML::Node* config = rec.Take("config")) {
    std::string config_where = Field(where, "config");
    if (ExpectMap(diag, *config, config_where)) {
      nlohmann::ordered_json json;
      if (ToJson(diag, *config, where, "config", &json, &p.config_marks, &doc.json_budget)) {
        p.config_json = json.dump();
      }
    }
  }
  if (const YAML::Node* v = rec.Take("protocols")) {
    std::vector<std::string> protocols;
    ForEachElement(diag, *v, Field(where, "protocols"), /*set=*/true,
                   [&](const YAML::Node& element, const std::string& w) {
                     if (auto proto = ReadOneOf(diag, element, w, kProtocols)) {
                       protocols.push_back(std::move(*proto));
                     }
                   });
    p.protocols = std::move(protocols);
  }
  if (auto v = rec.Bool("enabled")) {
    p.enabled = *v;
  }
  if (auto v = rec.Tags()) {
    p.tags = std::move(*v);
  }

  pp.route = ReadRef(rec, "route", parent, Parent::Kind::kRoute);
  pp.service = ReadRef(rec, "service", parent, Parent::Kind::kService);
  pp.consumer = ReadRef(rec, "consumer", parent, Parent::Kind::kConsumer);
  if (parent.kind == Parent::Kind::kRoute) {
    p.route = parent.index;
  }
  if (parent.kind == Parent::Kind::kService) {
    p.service = parent.index;
  }
  if (parent.kind == Parent::Kind::kConsumer) {
    p.consumer = parent.index;
  }

  if (!pp.id_given) {
    // Kong: the endpoint key (instance_name) if set, else the cache key
    // "plugins:<name>:<route>:<service>:<consumer>" (declarative_config.lua, build_cache_key).
    if (!p.instance_name.empty()) {
      p.id = KongEntityId("plugins", p.instance_name);
    } else if (!p.name.empty()) {
      p.id = KongEntityId(
          "plugins", absl::StrCat("plugins:", p.name, ":",
                                  CacheKeyPart(parent, Parent::Kind::kRoute, pp.route), ":",
                                  CacheKeyPart(parent, Parent::Kind::kService, pp.service), ":",
                                  CacheKeyPart(parent, Parent::Kind::kConsumer, pp.consumer)));
    } else {
      p.id = KongEntityId("plugins", where);
    }
  }
  doc.plugins.push_back(std::move(pp));
  rec.Finish();
}

void ParseConsumer(Diagnostics& diag, Document& doc, const YAML::Node& node,
                   const std::string& where) {
  Record rec(diag, node, where);
  PendingConsumer pc;
  pc.where = where;
  Consumer& c = pc.value;
  c.mark = ToMark(node.Mark());
  rec.AcceptEntityExtras();
  pc.id_given = ReadId(rec, &c.id, &pc.id_mark);
  pc.username_mark = rec.ValueMark("username");
  pc.custom_id_mark = rec.ValueMark("custom_id");
  bool identified = rec.NonEmpty("username") || rec.NonEmpty("custom_id");
  if (auto v = rec.String("username")) {
    c.username = *v;
  }
  if (auto v = rec.String("custom_id")) {
    c.custom_id = *v;
  }
  if (auto v = rec.Tags()) {
    c.tags = std::move(*v);
  }
  if (!identified) {
    diag.Add(node.Mark(), where,
             "at least one of these fields must be non-empty: 'custom_id', 'username'");
  }

  // Kong derives a consumer's id from its username; without one it is random, so sluice uses
  // the consumer's position instead (stable across reloads of the same file).
  if (!pc.id_given) {
    c.id = KongEntityId("consumers", c.username.empty() ? where : c.username);
  }
  Parent self{Parent::Kind::kConsumer, static_cast<int>(doc.consumers.size()), c.id, where};
  doc.consumers.push_back(std::move(pc));

  if (const YAML::Node* plugins = rec.Take("plugins")) {
    ForEachRecord(
        diag, *plugins, Field(where, "plugins"),
        [&](const YAML::Node& n, const std::string& w) { ParsePlugin(diag, doc, n, w, self); });
  }
  if (const YAML::Node* secrets = rec.Take("jwt_secrets")) {
    ForEachRecord(
        diag, *secrets, Field(where, "jwt_secrets"),
        [&](const YAML::Node& n, const std::string& w) { ParseJwtSecret(diag, doc, n, w, self); });
  }
  rec.Finish();
}

void ParseJwtSecret(Diagnostics& diag, Document& doc, const YAML::Node& node,
                    const std::string& where, const Parent& parent) {
  Record rec(diag, node, where);
  PendingJwtSecret pj;
  pj.where = where;
  pj.parent = parent;
  JwtSecret& j = pj.value;
  j.mark = ToMark(node.Mark());
  rec.AcceptEntityExtras();
  pj.id_given = ReadId(rec, &j.id, &pj.id_mark);
  pj.key_mark = rec.ValueMark("key");
  if (auto v = rec.String("key")) {
    j.key = *v;
    pj.key_given = true;
  }
  if (auto v = rec.String("secret")) {
    j.secret = *v;
  }
  bool has_public_key = rec.Has("rsa_public_key");
  if (auto v = rec.String("rsa_public_key")) {
    j.rsa_public_key = *v;
  }
  bool algorithm_ok = true;
  if (rec.Has("algorithm")) {
    auto v = rec.OneOf("algorithm", {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256",
                                     "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"});
    algorithm_ok = v.has_value();
    if (v) {
      j.algorithm = *v;
    }
  }
  if (auto v = rec.Tags()) {
    j.tags = std::move(*v);
  }
  pj.consumer = ReadRef(rec, "consumer", parent, Parent::Kind::kConsumer);
  if (parent.kind != Parent::Kind::kConsumer && !pj.consumer.present && !rec.Has("consumer")) {
    rec.Missing("consumer");
  }

  if (algorithm_ok) {
    bool needs_key = absl::StartsWith(j.algorithm, "RS") || absl::StartsWith(j.algorithm, "PS") ||
                     j.algorithm == "EdDSA";
    if (needs_key && !has_public_key) {
      rec.Missing("rsa_public_key");
    } else if (!absl::StartsWith(j.algorithm, "HS") && !j.rsa_public_key.empty() &&
               !ParsesAsPublicKey(j.rsa_public_key)) {
      rec.Error("rsa_public_key", "invalid key");
    }
  }

  // Kong auto-generates `key` and `secret` when they are omitted (random on every load).
  if (!pj.key_given) {
    j.key = RandomHex(16);
  }
  if (j.secret.empty() && !rec.Has("secret")) {
    j.secret = RandomHex(16);
  }
  // Kong: jwt_secrets' endpoint key `key` is unique, so the id derives from it.
  if (!pj.id_given) {
    j.id = KongEntityId("jwt_secrets", j.key);
  }
  doc.jwt_secrets.push_back(std::move(pj));
  rec.Finish();
}

}  // namespace sluice::config::internal
