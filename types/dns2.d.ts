// Minimal types for the parts of dns2 (an in-process DNS server) that lab/ uses.
declare module 'dns2' {
  import type { EventEmitter } from 'node:events';
  interface Question {
    name: string;
    type: number;
    class: number;
  }
  interface Resource {
    name: string;
    type: number;
    class: number;
    ttl: number;
    address?: string;
    domain?: string;
  }
  class Packet {
    static TYPE: Record<'A' | 'AAAA' | 'PTR' | 'CNAME' | 'ANY', number>;
    static CLASS: { IN: number };
    static createResponseFromRequest(request: Packet): Packet;
    header: { id: number; rcode: number; [k: string]: unknown };
    questions: Question[];
    answers: Resource[];
  }
  interface Server extends EventEmitter {
    listen(options: { udp?: { port: number; address: string; type?: 'udp4' | 'udp6' } }): Promise<void>;
    addresses(): { udp?: { port: number; address: string } };
    close(): Promise<void>;
  }
  function createServer(options: {
    udp?: boolean;
    handle: (request: Packet, send: (response: Packet) => void, rinfo: unknown) => void;
  }): Server;
  const dns2: { Packet: typeof Packet; createServer: typeof createServer };
  export default dns2;
  export { Packet, createServer };
}
