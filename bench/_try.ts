import { scale } from './scale';
import { renderResult } from './lib';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
console.log(renderResult(await scale(process.argv[2] ? process.argv[2].split(',').map(Number) : undefined)));
