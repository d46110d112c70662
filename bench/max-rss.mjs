// Preloaded into a child the benchmark measures (node --import ./bench/max-rss.mjs ...): its
// peak RSS, in kilobytes, as the last line of stderr.
process.on('exit', () => {
  process.stderr.write(`\nFIFO_BENCH_MAX_RSS_KB=${process.resourceUsage().maxRSS}\n`);
});
