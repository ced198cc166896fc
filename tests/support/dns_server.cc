// SPDX-License-Identifier: Apache-2.0
#include "tests/support/dns_server.h"

#include <arpa/inet.h>
#include <cctype>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace sluice::testing {
namespace {

constexpr uint16_t kTypeA = 1;
constexpr uint16_t kClassIn = 1;
constexpr uint16_t kRcodeNxDomain = 3;

uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

void Put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

void Put32(std::vector<uint8_t>& out, uint32_t v) {
  Put16(out, static_cast<uint16_t>(v >> 16));
  Put16(out, static_cast<uint16_t>(v));
}

}  // namespace

DnsServer::DnsServer() {
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd_ >= 0)
      ::close(fd_);
    throw std::runtime_error("dns server: cannot bind a UDP port on 127.0.0.1");
  }
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

DnsServer::~DnsServer() {
  stop_ = true;
  thread_.join();
  ::close(fd_);
}

std::string DnsServer::address() const { return "127.0.0.1:" + std::to_string(port_); }

void DnsServer::SetRecords(const std::string& name, const std::vector<std::string>& ipv4,
                           uint32_t ttl_s) {
  Record rec{{}, ttl_s};
  for (const std::string& text : ipv4) {
    in_addr ip{};
    if (::inet_pton(AF_INET, text.c_str(), &ip) != 1)
      throw std::invalid_argument("dns server: not an IPv4 address: " + text);
    rec.ipv4.push_back(ip.s_addr);
  }
  std::lock_guard<std::mutex> lock(mu_);
  records_[name] = std::move(rec);
}

void DnsServer::Remove(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  records_.erase(name);
}

void DnsServer::SetDelay(std::chrono::milliseconds delay) {
  std::lock_guard<std::mutex> lock(mu_);
  delay_ = delay;
}

int DnsServer::Queries(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = queries_.find(name);
  return it == queries_.end() ? 0 : it->second;
}

void DnsServer::Serve() {
  uint8_t buf[512];
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0)
      continue;
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    const ssize_t n =
        ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 12 || Get16(buf + 4) != 1)
      continue;  // not a query with one question
    // The question: labels up to the root, then type and class.
    std::string name;
    size_t at = 12;
    while (at < static_cast<size_t>(n) && buf[at] != 0) {
      const size_t label = buf[at++];
      if (label > 63 || at + label > static_cast<size_t>(n))
        break;
      if (!name.empty())
        name.push_back('.');
      for (size_t i = 0; i < label; ++i)
        name.push_back(static_cast<char>(std::tolower(buf[at + i])));
      at += label;
    }
    if (at + 5 > static_cast<size_t>(n))
      continue;
    const size_t question_end = at + 5;
    const uint16_t qtype = Get16(buf + at + 1);

    Record rec{};
    bool known = false;
    std::chrono::milliseconds delay{0};
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (qtype == kTypeA)
        ++queries_[name];
      auto it = records_.find(name);
      known = it != records_.end();
      if (known)
        rec = it->second;
      delay = delay_;
    }
    for (auto waited = std::chrono::milliseconds(0); waited < delay && !stop_;
         waited += std::chrono::milliseconds(10)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }

    const uint16_t answers = known && qtype == kTypeA ? static_cast<uint16_t>(rec.ipv4.size()) : 0;
    std::vector<uint8_t> out(buf, buf + question_end);      // id, flags, counts, question
    out[2] = static_cast<uint8_t>(0x84 | (buf[2] & 0x01));  // QR, AA, the query's RD
    out[3] = static_cast<uint8_t>(0x80 | (known ? 0 : kRcodeNxDomain));  // RA, rcode
    out[6] = static_cast<uint8_t>(answers >> 8);                         // ANCOUNT
    out[7] = static_cast<uint8_t>(answers);
    for (size_t i = 8; i < 12; ++i)
      out[i] = 0;  // no authority or additional records
    for (size_t k = 0; k < answers; ++k) {
      const uint32_t ip = rec.ipv4[k];
      Put16(out, 0xC00C);  // the name: a pointer to the question's
      Put16(out, kTypeA);
      Put16(out, kClassIn);
      Put32(out, rec.ttl_s);
      Put16(out, 4);
      const auto* bytes = reinterpret_cast<const uint8_t*>(&ip);
      out.insert(out.end(), bytes, bytes + 4);
    }
    ::sendto(fd_, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), from_len);
  }
}

}  // namespace sluice::testing
