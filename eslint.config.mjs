// Lint rules that enforce the walls of DESIGN.md §1; `npm test` fails when one is crossed.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const processEnv = {
  selector: "MemberExpression[object.name='process'][property.name='env']",
  message: 'Only src/cli and src/extension read the environment; pass resolved config into core.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.sclab/**', 'tmp/**', 'test-results/**', 'media/**', 'coverage/**', 'sidecar/**', 'bin/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'vscode', message: 'src/core never imports vscode.' }],
          patterns: [
            { group: ['**/extension/**', '**/cli/**', '**/webview/**', '**/extension', '**/cli', '**/webview'], message: 'src/core never imports the hosts or the webview.' },
          ],
        },
      ],
      'no-restricted-syntax': ['error', processEnv],
    },
  },
  {
    // Browser-safe parts: the model, analysis and the webview run in a browser too.
    files: ['src/core/model/**/*.ts', 'src/core/analysis/**/*.ts', 'src/core/util/**/*.ts', 'webview/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'vscode', message: 'browser-safe code never imports vscode.' },
            ...nodeBuiltins.map((name) => ({ name, message: 'browser-safe code never imports Node built-ins.' })),
          ],
          patterns: [{ group: ['**/extension/**', '**/cli/**', '**/core/runner/**', '**/core/engine/**', '**/core/backends/**'], message: 'browser-safe code imports only browser-safe modules.' }],
        },
      ],
      'no-restricted-syntax': ['error', processEnv],
    },
  },
);
