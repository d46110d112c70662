// Preloaded into a child the benchmark measures (node --import ./bench/max-rss.mjs ...): its
// peak RSS, in kilobytes, and its CPU time (user and system), in milliseconds, as the last
// lines of stderr.
process.on('exit', () => {
  const usage = process.resourceUsage();
  process.stderr.write(
    `\nFIFO_BENCH_MAX_RSS_KB=${usage.maxRSS}\nFIFO_BENCH_CPU_MS=${Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000)}\n`,
  );
});
