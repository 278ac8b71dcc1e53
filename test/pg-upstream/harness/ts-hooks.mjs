/**
 * Module hooks for child processes that a vendored test forks (`pg-pool/idle-timeout-exit.cjs`):
 * they load the harness and pindb's TypeScript sources by stripping types with esbuild (installed
 * with Vite; `typescript` takes many seconds per child on a loaded machine), and map a `.ts` file's
 * `./x.js` imports to `./x.ts`.
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

let esbuild

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context)
  } catch (err) {
    if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
      return next(`${specifier.slice(0, -3)}.ts`, context)
    }
    throw err
  }
}

export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context)
  esbuild ??= await import('esbuild')
  const source = await readFile(new URL(url), 'utf8')
  const { code } = await esbuild.transform(source, {
    loader: 'ts',
    format: 'esm',
    target: 'es2022',
    sourcefile: fileURLToPath(url),
    tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } },
  })
  return { format: 'module', source: code, shortCircuit: true }
}
