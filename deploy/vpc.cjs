// Serverless variable source: the functions' VPC config from the subnetIds and
// securityGroupIds params, or none when both are empty. Half a VPC config is an error.
module.exports.vpc = async ({ resolveVariable }) => {
  const list = async (name) =>
    String((await resolveVariable(`param:${name}`)) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const subnetIds = await list('subnetIds');
  const securityGroupIds = await list('securityGroupIds');
  // null means "no value": serverless.yml falls back to null, i.e. no VPC.
  if (subnetIds.length === 0 && securityGroupIds.length === 0) return null;
  if (subnetIds.length === 0 || securityGroupIds.length === 0) {
    throw new Error(
      'elbscope: set both subnetIds and securityGroupIds params to attach the functions to a VPC, or neither',
    );
  }
  for (const id of subnetIds)
    if (!/^subnet-[0-9a-f]{8,17}$/.test(id)) throw new Error(`elbscope: subnetIds: "${id}" is not a subnet id`);
  for (const id of securityGroupIds)
    if (!/^sg-[0-9a-f]{8,17}$/.test(id))
      throw new Error(`elbscope: securityGroupIds: "${id}" is not a security group id`);
  return { subnetIds, securityGroupIds };
};
