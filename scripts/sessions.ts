/** `npm run sessions -- <command>`: the operator's view of sessions. Run `npm run sessions -- help` for usage. */
import { runCli } from '../src/lib/server/cli/main';

process.exitCode = await runCli(process.argv.slice(2), process.env);
