// IPv4 addresses and subnets as numbers: the bridge network's arithmetic.

/** Subnet is a CIDR block: its first address and prefix length. */
export interface Subnet {
  base: number;
  prefix: number;
}

/** parseAddress reads a dotted quad; undefined unless it is one. */
export function parseAddress(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((part) => !/^\d{1,3}$/.test(part) || Number(part) > 255)) return undefined;
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

/** formatAddress writes a dotted quad. */
export function formatAddress(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** parseSubnet reads `A.B.C.D/N`, its base made the block's first address; undefined unless it is one. */
export function parseSubnet(text: string): Subnet | undefined {
  const [address, prefixText, extra] = text.split('/');
  const base = parseAddress(address);
  if (base === undefined || extra !== undefined || !/^\d{1,2}$/.test(prefixText ?? '') || Number(prefixText) > 32) return undefined;
  const prefix = Number(prefixText);
  return { base: base - (base % size({ base, prefix })), prefix };
}

/** formatSubnet writes `A.B.C.D/N`. */
export function formatSubnet(subnet: Subnet): string {
  return `${formatAddress(subnet.base)}/${subnet.prefix}`;
}

/** size is how many addresses the block holds. */
export function size(subnet: Subnet): number {
  return 2 ** (32 - subnet.prefix);
}

/** contains says whether address is in the block. */
export function contains(subnet: Subnet, address: number): boolean {
  return address >= subnet.base && address < subnet.base + size(subnet);
}

/** overlaps says whether two blocks share any address. */
export function overlaps(a: Subnet, b: Subnet): boolean {
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

/** HostRoute is one IPv4 route of the host's main table. */
export interface HostRoute {
  iface: string;
  subnet: Subnet;
}

/** parseProcRoutes reads /proc/net/route (addresses in little-endian hex). */
export function parseProcRoutes(text: string): HostRoute[] {
  return text.split('\n').slice(1).filter(Boolean).map((line) => {
    const [iface, destination, , , , , , mask] = line.trim().split(/\s+/);
    const base = littleEndian(destination);
    const bits = littleEndian(mask).toString(2).replace(/0+$/, '').length;
    return { iface, subnet: { base, prefix: littleEndian(mask) === 0 ? 0 : bits } };
  });
}

function littleEndian(hex: string): number {
  const value = parseInt(hex, 16);
  return ((value & 0xff) * 2 ** 24) + (((value >>> 8) & 0xff) << 16) + (((value >>> 16) & 0xff) << 8) + ((value >>> 24) & 0xff);
}
