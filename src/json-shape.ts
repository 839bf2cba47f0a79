// The JSON types of a decoded object's known fields, checked before any is
// read, as Go's decoder checks them in Docker: a string where a list belongs
// is the input's error, with the decoder's words, never a TypeError of ours.

/** JsonKind is what one field must hold. */
export type JsonKind = 'string' | 'strings' | 'string or strings' | 'bool' | 'number' | 'object' | 'string map' | 'objects' | 'port map';

// Go's names for each kind, as its decoder's messages give them.
const GO_TYPE: Record<JsonKind, string> = {
  'string': 'string', 'strings': '[]string', 'string or strings': '[]string', 'bool': 'bool', 'number': 'int', 'object': 'struct',
  'string map': 'map[string]string', 'objects': '[]struct', 'port map': 'nat.PortMap',
};

/** misfit says which field of object holds the wrong JSON type for its kind (null fits any), as Go's decoder
 * says it; undefined when all fit. struct names the object in the message. */
export function misfit(object: Record<string, unknown>, kinds: Record<string, JsonKind>, struct: string): string | undefined {
  const wrong = fieldMisfit(object, kinds);
  return wrong && `json: cannot unmarshal ${jsonType(wrong.value)} into Go struct field ${struct}.${wrong.field} of type ${GO_TYPE[wrong.kind]}`;
}

/** fieldMisfit is the first field of object whose value (not null or undefined) is not of its kind. */
export function fieldMisfit(object: Record<string, unknown>, kinds: Record<string, JsonKind>): { field: string; kind: JsonKind; value: unknown } | undefined {
  for (const [field, kind] of Object.entries(kinds)) {
    const value = object[field];
    if (value !== null && value !== undefined && !fits(value, kind)) return { field, kind, value };
  }
  return undefined;
}

/** isJsonObject: an object that is no array and not null. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fits(value: unknown, kind: JsonKind): boolean {
  switch (kind) {
    case 'string': return typeof value === 'string';
    case 'bool': return typeof value === 'boolean';
    case 'number': return typeof value === 'number';
    case 'object': return isJsonObject(value);
    case 'strings': return Array.isArray(value) && value.every((item) => typeof item === 'string');
    case 'string or strings': return typeof value === 'string' || fits(value, 'strings');
    case 'string map': return isJsonObject(value) && Object.values(value).every((item) => typeof item === 'string');
    // null in a list of structs decodes to a zero struct.
    case 'objects': return Array.isArray(value) && value.every((item) => item === null || isJsonObject(item));
    case 'port map': return isJsonObject(value) && Object.values(value).every((hosts) => hosts === null || fits(hosts, 'objects'));
  }
}

function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  return typeof value === 'object' ? 'object' : typeof value;
}
