// SPDX-License-Identifier: Apache-2.0
// A DNS server for tests: UDP on 127.0.0.1, answering A queries from a table the test changes
// while it runs, with the TTL it is told. Lets the resolver's real code path (c-ares, sockets,
// timeouts, TTLs) run without any query leaving the machine.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sluice::testing {

class DnsServer {
 public:
  // Binds a free UDP port and starts answering on its own thread; throws when it cannot bind.
  DnsServer();
  ~DnsServer();
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  int port() const { return port_; }

  // "127.0.0.1:PORT", as --dns-resolver takes it.
  std::string address() const;

  // `name` (lower case, no trailing dot) answers `ipv4` (one A record per address, in this
  // order) with `ttl_s`; AAAA queries for it get an empty answer. Unknown names get NXDOMAIN.
  void SetRecords(const std::string& name, const std::vector<std::string>& ipv4, uint32_t ttl_s);

  void Set(const std::string& name, const std::string& ipv4, uint32_t ttl_s) {
    SetRecords(name, {ipv4}, ttl_s);
  }

  void Remove(const std::string& name);

  // Every answer is held back this long (0: answer at once); queries wait their turn.
  void SetDelay(std::chrono::milliseconds delay);

  // A queries seen for `name` so far.
  int Queries(const std::string& name) const;

 private:
  struct Record {
    std::vector<uint32_t> ipv4;  // network order
    uint32_t ttl_s;
  };

  void Serve();

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::map<std::string, Record> records_;
  std::map<std::string, int> queries_;
  std::chrono::milliseconds delay_{0};
  std::thread thread_;
};

}  // namespace sluice::testing
