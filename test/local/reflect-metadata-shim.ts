/**
 * The slice of the `reflect-metadata` polyfill that tsyringe (a dependency of @peculiar/x509)
 * insists on at import time. @peculiar/x509 registers its algorithms with `@injectable()` classes
 * that take no constructor parameters, so tsyringe only ever stores and reads empty metadata; a
 * WeakMap-backed implementation of the three functions it calls is enough, and spares the project
 * a package. Import this module before `@peculiar/x509`. A real polyfill, if present, wins.
 */
type MetadataKey = unknown;
type Target = object;

interface ReflectMetadata {
  getMetadata(key: MetadataKey, target: Target, propertyKey?: PropertyKey): unknown;
  getOwnMetadata(key: MetadataKey, target: Target, propertyKey?: PropertyKey): unknown;
  defineMetadata(key: MetadataKey, value: unknown, target: Target, propertyKey?: PropertyKey): void;
}

const store = new WeakMap<Target, Map<PropertyKey | undefined, Map<MetadataKey, unknown>>>();

function ownMap(target: Target, propertyKey: PropertyKey | undefined, create: boolean) {
  let byProperty = store.get(target);
  if (!byProperty) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let byKey = byProperty.get(propertyKey);
  if (!byKey && create) {
    byKey = new Map();
    byProperty.set(propertyKey, byKey);
  }
  return byKey;
}

const shim: ReflectMetadata = {
  getOwnMetadata(key, target, propertyKey) {
    return ownMap(target, propertyKey, false)?.get(key);
  },
  getMetadata(key, target, propertyKey) {
    // Like reflect-metadata: walk the prototype chain (class constructors inherit statics).
    for (let t: Target | null = target; t !== null; t = Object.getPrototypeOf(t) as Target | null) {
      const map = ownMap(t, propertyKey, false);
      if (map?.has(key)) return map.get(key);
    }
    return undefined;
  },
  defineMetadata(key, value, target, propertyKey) {
    ownMap(target, propertyKey, true)!.set(key, value);
  },
};

const reflect = Reflect as unknown as Partial<ReflectMetadata>;
if (typeof reflect.getMetadata !== 'function') {
  reflect.getMetadata = shim.getMetadata;
  reflect.getOwnMetadata = shim.getOwnMetadata;
  reflect.defineMetadata = shim.defineMetadata;
}
