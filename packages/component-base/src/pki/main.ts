import { runPKICli } from './cli.js';

process.exitCode = await runPKICli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
