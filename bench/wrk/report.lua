-- SPDX-License-Identifier: Apache-2.0
-- wrk script for bench/wrk/run.sh: prints one machine-readable line at the end of a run, so the
-- script never parses wrk's human-readable units. Latencies and duration are in microseconds;
-- "status" counts responses that were not 2xx or 3xx.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKSTAT requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
