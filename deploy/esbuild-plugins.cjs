// esbuild plugins for the Lambda bundles (serverless-esbuild `plugins:`) and the
// benchmarks that build the same way.
//
// Why: the AWS SDK's generated schema modules (`dist-es/schemas/schemas_0.js`)
// write object keys as computed names of module constants, `{ [_xN]: _m }`.
// esbuild must assume a computed key can run code (toString), so it keeps every
// schema of the service: 540 KB of @aws-sdk/client-ec2 for the one operation
// elbscope calls, ~110 ms of a cold start and ~35 MB of memory. Writing those keys
// as the string literals the constants hold lets esbuild drop the unused schemas.
// The rewrite changes no value: only keys whose constant is a plain string
// literal declared in the same module are touched.
const { readFile } = require('node:fs/promises');

const SCHEMA_MODULE = /[\\/]@aws-sdk[\\/].+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/;

/** Replace `{ [_name]: …` keys by the string literal `_name` holds (a top-level `const _name = "…";`). */
function inlineSchemaKeys(source) {
  const strings = new Map();
  for (const m of source.matchAll(/^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm)) strings.set(m[1], m[2]);
  let replaced = 0;
  const code = source.replace(/([{,]\s*)\[(_\w+)\]:/g, (all, before, name) => {
    const literal = strings.get(name);
    if (literal === undefined) return all;
    replaced++;
    return `${before}${literal}:`;
  });
  return { code, replaced };
}

/** The esbuild plugin applying `inlineSchemaKeys` to the SDK's schema modules. */
const sdkSchemaKeys = {
  name: 'elbscope-sdk-schema-keys',
  setup(build) {
    build.onLoad({ filter: SCHEMA_MODULE }, async (args) => ({
      contents: inlineSchemaKeys(await readFile(args.path, 'utf8')).code,
      loader: 'js',
    }));
  },
};

module.exports = [sdkSchemaKeys];
module.exports.inlineSchemaKeys = inlineSchemaKeys;
module.exports.sdkSchemaKeys = sdkSchemaKeys;
