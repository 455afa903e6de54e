import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script, no types
import { uplotModule } from '../../../scripts/vendor-uplot.mjs';

describe('The vendored uPlot (shared/report/assets/uplot.ts)', () => {
  it('is what scripts/vendor-uplot.mjs makes of the installed uplot: no drift after an upgrade', () => {
    expect(readFileSync(new URL('../../../shared/report/assets/uplot.ts', import.meta.url), 'utf8')).toBe(
      uplotModule(),
    );
  });
});
