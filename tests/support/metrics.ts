// Reading a processor's Prometheus text (GET /metrics or registry.metrics()) in tests.

/** The sum of a metric's samples over the label sets that contain `labels` (e.g. `outcome="late"`; '' for all). */
export function metricSum(text: string, name: string, labels = ''): number {
  return text.split('\n')
    .filter((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(labels))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}
