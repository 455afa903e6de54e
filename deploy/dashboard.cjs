// Serverless variable source: the CloudWatch dashboard of the stack, built from
// metric SEARCH expressions so every load balancer, AZ and backend appears
// without listing them here. Metric names come from shared/cycle/metrics.ts.
const { METRIC, METRIC_NAMESPACE } = require('./metric-names.cjs');

module.exports.body = async ({ resolveVariable }) => {
  const region = await resolveVariable('self:provider.region');
  const search = (expr, stat) => [{ expression: `SEARCH('${expr}', '${stat}', 60)`, id: 'e1' }];
  const schema = (dims, metric) => `{${[METRIC_NAMESPACE, ...dims, 'service'].join(',')}} MetricName="${metric}"`;
  // metrics: one row per line; a row holding only an expression draws every metric it finds.
  const widget = (y, title, expr, stat) => ({
    type: 'metric',
    x: 0,
    y,
    width: 24,
    height: 6,
    properties: { title, region, view: 'timeSeries', stat, period: 60, metrics: [search(expr, stat)] },
  });
  return JSON.stringify({
    widgets: [
      widget(0, 'Nodes per AZ (provisioned: ENIs)', schema(['AZ', 'LoadBalancer'], METRIC.nodesProvisioned), 'Maximum'),
      widget(6, 'Nodes per AZ (advertised in DNS)', schema(['AZ', 'LoadBalancer'], METRIC.nodesAdvertised), 'Maximum'),
      widget(
        12,
        'Pre-opened connections (R) per backend',
        schema(['Backend', 'LoadBalancer'], METRIC.reading),
        'Maximum',
      ),
      widget(
        18,
        'elbscope itself: observation failures by source',
        schema(['Source'], METRIC.observationFailed),
        'Sum',
      ),
      widget(24, 'elbscope itself: completed cycles', schema([], METRIC.cycleCompleted), 'Sum'),
      widget(30, 'elbscope itself: alerts undeliverable', schema([], METRIC.alertsUndeliverable), 'Sum'),
    ],
  });
};
