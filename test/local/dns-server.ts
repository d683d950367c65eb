import dns2, { Packet } from 'dns2';
import type { AddressInfo } from 'node:net';

/**
 * dns2 compresses the SRV target against earlier names, which RFC 2782 forbids ("name compression
 * is not to be used for this field") and which Node's c-ares rejects with EBADRESP: write it whole.
 */
type RdataEncoder = (record: Required<Pick<dns2.Packet.Resource, 'priority' | 'weight' | 'port' | 'target'>>, writer: dns2.Packet.Writer) => void;
(Packet.Resource as unknown as { SRV: { encode: RdataEncoder } }).SRV.encode = (record, writer) => {
  writer.write(record.priority, 16);
  writer.write(record.weight, 16);
  writer.write(record.port, 16);
  for (const label of record.target.split('.').filter((l) => l !== '')) {
    const bytes = Buffer.from(label, 'ascii');
    writer.write(bytes.length, 8);
    for (const byte of bytes) writer.write(byte, 8);
  }
  writer.write(0, 8);
};

/** One SRV record as the zone holds it. */
export interface SrvRecord {
  target: string;
  port: number;
  priority?: number;
  weight?: number;
}

/** What the server does with a query for a name it has no answer for. */
export type DnsMode = 'answer' | 'servfail' | 'silent';

/**
 * A real DNS server on 127.0.0.1 (UDP, ephemeral port) with a zone the test edits at runtime:
 * SRV, A and AAAA records by name. A name with no records of any type answers NXDOMAIN; a name
 * with records of other types answers NOERROR with no data (ENODATA), as real servers do.
 * `mode` makes it fail (`servfail`) or drop queries (`silent`) to simulate an outage.
 */
export class LocalDnsServer {
  readonly #server: dns2.UDPServer;
  readonly #srv = new Map<string, SrvRecord[]>();
  readonly #a = new Map<string, string[]>();
  readonly #aaaa = new Map<string, string[]>();
  readonly #queries: string[] = [];
  mode: DnsMode = 'answer';

  private constructor() {
    this.#server = dns2.createUDPServer((request, send) => void this.#answer(request, send));
  }

  /** Starts a server on 127.0.0.1 with an empty zone. */
  static async start(): Promise<LocalDnsServer> {
    const server = new LocalDnsServer();
    await server.#server.listen(0, '127.0.0.1');
    return server;
  }

  /** `127.0.0.1:<port>`, as `SERVICE_MESH_DISCOVERY_DNS_SERVERS` and `Resolver.setServers` take it. */
  get address(): string {
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Every query so far as `<TYPE> <name>`, e.g. `SRV _grpc._tcp.contact-service.mesh.local`. */
  get queries(): readonly string[] {
    return this.#queries;
  }

  setSrv(name: string, records: SrvRecord[]): this {
    this.#srv.set(lower(name), records);
    return this;
  }

  setA(name: string, ...ips: string[]): this {
    this.#a.set(lower(name), ips);
    return this;
  }

  setAaaa(name: string, ...ips: string[]): this {
    this.#aaaa.set(lower(name), ips);
    return this;
  }

  /** Removes every record, queries log and failure mode. */
  reset(): void {
    this.#srv.clear();
    this.#a.clear();
    this.#aaaa.clear();
    this.#queries.length = 0;
    this.mode = 'answer';
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  async #answer(request: Packet, send: (response: Packet) => Promise<Buffer>): Promise<void> {
    const response = Packet.createResponseFromRequest(request);
    const [question] = request.questions;
    if (question === undefined) return;
    const name = lower(question.name);
    this.#queries.push(`${typeName(question.type)} ${name}`);
    if (this.mode === 'silent') return;
    if (this.mode === 'servfail') {
      response.header.rcode = 2; // SERVFAIL
      await send(response);
      return;
    }
    const answer = (record: Partial<dns2.Packet.Resource>) => {
      response.answers.push(Packet.createResourceFromQuestion(question, { class: Packet.CLASS.IN, ttl: 5, ...record }));
    };
    if (question.type === Packet.TYPE.SRV) {
      for (const r of this.#srv.get(name) ?? []) answer({ priority: r.priority ?? 10, weight: r.weight ?? 10, port: r.port, target: r.target });
    } else if (question.type === Packet.TYPE.A) {
      for (const address of this.#a.get(name) ?? []) answer({ address });
    } else if (question.type === Packet.TYPE.AAAA) {
      for (const address of this.#aaaa.get(name) ?? []) answer({ address });
    }
    const known = this.#srv.has(name) || this.#a.has(name) || this.#aaaa.has(name);
    if (!known) response.header.rcode = 3; // NXDOMAIN
    await send(response);
  }
}

function lower(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function typeName(type: number): string {
  return Object.entries(Packet.TYPE).find(([, value]) => value === type)?.[0] ?? String(type);
}
