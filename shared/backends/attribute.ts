import { compareNatural, compareText } from '../compare';
import type { ObservedNode } from '../nodes/observation';

/** Pre-opened connections on one backend held by one load balancer node. */
interface NodeReading {
  eniId: string | null;
  az: string | null;
  /** The client IP the backend saw: the node's private IP (or its only IP). */
  clientIp: string;
  reading: number;
}

export interface ReadingAttribution {
  byNode: NodeReading[];
  /** R from clients that are not nodes of this load balancer (other load balancers, health checkers, scanners). */
  fromOthers: number;
}

/**
 * Match a backend's R-per-client-IP to the load balancer's nodes. Backends see a
 * node's private IP (the ENI's), so that is matched first, then the node IP itself
 * (internal load balancers). Null when the backend could not say per client.
 */
export function attributeReading(
  readingByClient: Record<string, number> | null,
  nodes: ObservedNode[],
): ReadingAttribution | null {
  if (!readingByClient) return null;
  const byAddress = new Map<string, ObservedNode>();
  for (const node of nodes) {
    byAddress.set(node.ip, node);
    if (node.privateIp) byAddress.set(node.privateIp, node);
  }
  const byNode: NodeReading[] = [];
  let fromOthers = 0;
  for (const [clientIp, reading] of Object.entries(readingByClient)) {
    const node = byAddress.get(clientIp);
    if (node) byNode.push({ eniId: node.eniId, az: node.az, clientIp, reading });
    else fromOthers += reading;
  }
  byNode.sort((a, b) => compareText(a.az ?? '', b.az ?? '') || compareNatural(a.clientIp, b.clientIp));
  return { byNode, fromOthers };
}
