// A small JSON Schema checker (the subset the OpenAPI document uses), independent of zod, so tests check real
// responses against the published document rather than against the code that produced both.
type Schema = Record<string, unknown>;

export function checkSchema(value: unknown, schema: Schema, root: Schema, path = '$'): string[] {
  if (typeof schema['$ref'] === 'string') {
    const target = (schema['$ref'] as string).replace(/^#\//, '').split('/').reduce<unknown>((o, k) => (o as Schema)[k], root);
    return checkSchema(value, target as Schema, root, path);
  }
  const errs: string[] = [];
  if (schema['anyOf']) {
    const ok = (schema['anyOf'] as Schema[]).some((s) => checkSchema(value, s, root, path).length === 0);
    return ok ? [] : [`${path}: matches no anyOf branch`];
  }
  if ('const' in schema && value !== schema['const']) errs.push(`${path}: expected ${JSON.stringify(schema['const'])}`);
  if (schema['enum'] && !(schema['enum'] as unknown[]).includes(value)) errs.push(`${path}: ${JSON.stringify(value)} not in enum`);
  const type = schema['type'] as string | undefined;
  const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  if (type === 'integer') {
    if (!Number.isInteger(value)) errs.push(`${path}: expected integer, got ${JSON.stringify(value)}`);
  } else if (type && type !== actual) {
    errs.push(`${path}: expected ${type}, got ${actual}`);
    return errs;
  }
  if (actual === 'object' && (type === 'object' || schema['properties'])) {
    const obj = value as Record<string, unknown>;
    const props = (schema['properties'] ?? {}) as Record<string, Schema>;
    for (const r of (schema['required'] ?? []) as string[]) if (!(r in obj)) errs.push(`${path}.${r}: required`);
    for (const [k, v] of Object.entries(obj)) {
      if (props[k]) errs.push(...checkSchema(v, props[k]!, root, `${path}.${k}`));
      else if (schema['additionalProperties'] === false) errs.push(`${path}.${k}: not in the schema`);
      else if (typeof schema['additionalProperties'] === 'object') errs.push(...checkSchema(v, schema['additionalProperties'] as Schema, root, `${path}.${k}`));
    }
  }
  if (actual === 'array' && schema['items']) (value as unknown[]).forEach((v, i) => errs.push(...checkSchema(v, schema['items'] as Schema, root, `${path}[${i}]`)));
  return errs;
}
