// Every test process: no real AWS, ever. Dummy credentials (no credential
// chain walking to the instance metadata address), and a default endpoint on a
// closed loopback port so an SDK call a test forgot to point somewhere fails
// fast instead of leaving the machine.
process.env.AWS_ACCESS_KEY_ID = 'test';
process.env.AWS_SECRET_ACCESS_KEY = 'test';
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

// The audit's seal key (a key file, created by the first writer): one per test file, never the
// user's ~/.config/elbscope/seal.key. Child processes get it through childEnv.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
process.env.ELBSCOPE_SEAL_KEY ??= join(mkdtempSync(join(tmpdir(), 'elbscope-seal-')), 'seal.key');
