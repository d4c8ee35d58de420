import { defineConfig, type Options } from 'tsup';

/** The one build every package uses: ESM + CJS + .d.ts/.d.cts, dependencies kept external. */
export function palisadeBuild(options: Pick<Options, 'entry'> & Partial<Options>) {
  return defineConfig({
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: false,
    target: 'node20',
    splitting: false,
    treeshake: true,
    ...options,
  });
}
