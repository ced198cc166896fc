// SPDX-License-Identifier: Apache-2.0
// Opens N keep-alive connections to HOST:PORT, completes one GET / on each and then holds them
// idle, so bench/wrk/costs.sh can read the proxy's RSS per idle connection. Compiled at run time:
//   cc -O2 -o idle_conns idle_conns.c
// Usage: idle_conns HOST PORT N [DEADLINE_S]
// Prints "ready OPEN FAILED" once every connection has been tried, then waits for a line on stdin
// (or EOF); it then polls every connection without blocking, prints "open STILL_OPEN" (connections
// the proxy has not closed) and exits, closing them all. SIGALRM after DEADLINE_S (default 120)
// ends it in any state, so a run is bounded even if nobody answers.

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

// Reads one HTTP/1.1 response on fd; returns 0 on a complete 200 that leaves the connection open.
// Handles Content-Length and chunked bodies (the last chunk is found by its "0\r\n\r\n").
static int ReadResponse(int fd) {
  char buf[16384];
  size_t have = 0;
  for (;;) {
    if (have == sizeof(buf) - 1) {
      return -1;
    }
    ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
    if (n <= 0) {
      return -1;
    }
    have += (size_t)n;
    buf[have] = '\0';
    char* end = strstr(buf, "\r\n\r\n");
    if (end == NULL) {
      continue;
    }
    if (strncmp(buf, "HTTP/1.1 200", 12) != 0) {
      return -1;
    }
    size_t head = (size_t)(end - buf) + 4;
    // Header names are case-insensitive: scan the head line by line.
    long content_length = -1;
    int chunked = 0;
    int close_after = 0;
    for (char* line = strstr(buf, "\r\n") + 2; line < end; line = strstr(line, "\r\n") + 2) {
      if (strncasecmp(line, "content-length:", 15) == 0) {
        content_length = strtol(line + 15, NULL, 10);
      } else if (strncasecmp(line, "transfer-encoding:", 18) == 0) {
        chunked = 1;
      } else if (strncasecmp(line, "connection:", 11) == 0) {
        const char* v = line + 11;
        while (*v == ' ') {
          v++;
        }
        close_after = strncasecmp(v, "close", 5) == 0;
      }
    }
    if (close_after) {
      return -1;
    }
    for (;;) {
      if (content_length >= 0 && have - head >= (size_t)content_length) {
        return 0;
      }
      if (chunked && have >= head + 5 && memcmp(buf + have - 5, "0\r\n\r\n", 5) == 0) {
        return 0;
      }
      if (content_length < 0 && !chunked) {
        return -1;  // a body delimited by close cannot stay keep-alive
      }
      if (have == sizeof(buf) - 1) {
        return -1;
      }
      n = read(fd, buf + have, sizeof(buf) - 1 - have);
      if (n <= 0) {
        return -1;
      }
      have += (size_t)n;
      buf[have] = '\0';
    }
  }
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s HOST PORT N [DEADLINE_S]\n", argv[0]);
    return 2;
  }
  const char* host = argv[1];
  int port = atoi(argv[2]);
  int want = atoi(argv[3]);
  int deadline = argc > 4 ? atoi(argv[4]) : 120;
  if (want <= 0 || port <= 0 || deadline <= 0) {
    fprintf(stderr, "idle_conns: bad arguments\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  alarm((unsigned)deadline);  // default action ends the process: the bound on the whole run

  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  struct sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
    fprintf(stderr, "idle_conns: %s is not an IPv4 address\n", host);
    return 2;
  }
  char request[256];
  int request_len =
      snprintf(request, sizeof(request),
               "GET / HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: idle_conns\r\n\r\n", host, port);

  struct pollfd* fds = calloc((size_t)want, sizeof(*fds));
  if (fds == NULL) {
    return 1;
  }
  int open_count = 0;
  int failed = 0;
  // One connection at a time: connect, one request, read the whole response, keep it. This keeps
  // the listener's accept backlog small and leaves the proxy with exactly one upstream connection.
  for (int i = 0; i < want; i++) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      fprintf(stderr, "idle_conns: socket: %s (after %d open)\n", strerror(errno), open_count);
      failed += want - i;
      break;
    }
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr*)&addr, sizeof(addr)) != 0 ||
        write(fd, request, (size_t)request_len) != request_len || ReadResponse(fd) != 0) {
      close(fd);
      failed++;
      continue;
    }
    fds[open_count].fd = fd;
    fds[open_count].events = POLLIN;
    open_count++;
  }
  printf("ready %d %d\n", open_count, failed);
  fflush(stdout);

  char line[64];
  (void)fgets(line, sizeof(line), stdin);  // "check" or EOF: either way, count and leave
  int still_open = 0;
  if (open_count > 0 && poll(fds, (nfds_t)open_count, 0) >= 0) {
    for (int i = 0; i < open_count; i++) {
      // Readable means EOF, a reset or unexpected bytes: the proxy no longer holds it idle.
      if (fds[i].revents == 0) {
        still_open++;
      }
    }
  }
  printf("open %d\n", still_open);
  fflush(stdout);
  return 0;
}
