// SPDX-License-Identifier: Apache-2.0
#include "core/http/reply.h"

#include "absl/strings/str_cat.h"

namespace sluice::http {

absl::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 417:
      return "Expectation Failed";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

absl::string_view DefaultMessage(int status) {
  switch (status) {
    case 400:
      return "Bad request";
    case 404:
      return "no Route matched with those values";
    case 405:
      return "Method not allowed";
    case 408:
      return "Request timeout";
    case 411:
      return "Length required";
    case 413:
      return "Payload too large";
    case 414:
      return "URI too long";
    case 417:
      return "Expectation failed";
    case 431:
      return "Request header or cookie too large";
    case 500:
      return "An unexpected error occurred";
    case 501:
      return "Not implemented";
    case 502:
      return "An invalid response was received from the upstream server";
    case 503:
      return "failure to get a peer from the ring-balancer";
    case 504:
      return "The upstream server is timing out";
    case 505:
      return "HTTP version not supported";
    default:
      return ReasonPhrase(status);
  }
}

void AppendErrorReply(int status, absl::string_view message, bool close, bool plain_text,
                      std::string* out) {
  size_t body_len = plain_text ? message.size() + 1 : message.size() + 14;
  absl::StrAppend(out, "HTTP/1.1 ", status, " ", ReasonPhrase(status), "\r\n",
                  "Server: sluice/" SLUICE_VERSION "\r\n",
                  plain_text ? "Content-Type: text/plain; charset=utf-8\r\n"
                             : "Content-Type: application/json; charset=utf-8\r\n",
                  "Content-Length: ", body_len, "\r\n", close ? "Connection: close\r\n" : "",
                  "\r\n");
  if (plain_text) {
    absl::StrAppend(out, message, "\n");
  } else {
    absl::StrAppend(out, "{\"message\":\"", message, "\"}");
  }
}

}  // namespace sluice::http
