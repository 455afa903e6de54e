// Serverless variable source: the CloudWatch dashboard of the stack, built from
// metric SEARCH expressions so every load balancer, AZ and backend appears
// without listing them here.
module.exports.body = async ({ resolveVariable }) => {
  const region = await resolveVariable('self:provider.region');
  const search = (expr, stat) => [{ expression: `SEARCH('${expr}', '${stat}', 60)`, id: 'e1' }];
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
      widget(0, 'Nodes per AZ (provisioned: ENIs)', '{elbscope,AZ,LoadBalancer,service} MetricName="NodesProvisioned"', 'Maximum'),
      widget(6, 'Nodes per AZ (advertised in DNS)', '{elbscope,AZ,LoadBalancer,service} MetricName="NodesAdvertised"', 'Maximum'),
      widget(12, 'Pre-opened connections (R) per backend', '{elbscope,Backend,LoadBalancer,service} MetricName="Reading"', 'Maximum'),
    ],
  });
};
