#!/usr/bin/env node
// The `smsc-hub` command. Data goes to standard output, everything else to standard error.
//   serve                 start the service (the same as `npm start`)
//   migrate               apply the database migrations and exit
//   parse [FILE...]       parse SMPP receipts / SMSC HLR strings, one JSON object per line
//   keys create|list|revoke   API keys for /v1 (see cli/keys-command.ts)
//   replay [--since T]    re-derive messages, events, numbers and rollups from the stored raw callbacks
//   hygiene FILE [...]    classify a list of numbers (the hygiene report) and write the CSV
//   openapi               print the OpenAPI document generated from the routes
import { runParse } from "./cli/parse-command.js";

const USAGE = `usage: smsc-hub <command>
  serve                start the service
  migrate              apply database migrations
  parse [FILE...]      parse status strings (standard input when no file), one JSON object per line
  keys create --name NAME [--scope read|write|admin]
                       make an API key for /v1 (default scope read); prints only the key, once
  keys list            list API keys, one JSON object per line (never the key itself)
  keys revoke ID       revoke an API key
  replay [--since T]   re-derive everything from the stored raw callbacks (T: RFC 3339, or <n>h/<n>d/<n>w ago)
  hygiene FILE [--out FILE] [--max-age 30d] [--default-country RU] [--column NAME|N] [--excel]
                       classify a list of numbers (CSV, .txt one a line, or .json) and write the result CSV
                       (standard output when no --out); a progress bar on standard error on a terminal
  openapi              print the OpenAPI document (YAML)
`;

async function run(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case "serve":
      await import("./main.js");
      return -1; // main.ts owns the process from here
    case "migrate": {
      const { withCliDatabase } = await import("./cli/database.js");
      return withCliDatabase(process.stderr, async () => {
        process.stderr.write("migrations: the database is up to date\n");
        return 0;
      });
    }
    case "replay": {
      const { runReplay } = await import("./cli/replay-command.js");
      return runReplay(args, { stdout: process.stdout, stderr: process.stderr });
    }
    case "hygiene": {
      const { runHygiene } = await import("./cli/hygiene-command.js");
      return runHygiene(args, { stdout: process.stdout, stderr: process.stderr });
    }
    case "parse":
      return runParse(args, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
    case "keys": {
      const { runKeys } = await import("./cli/keys-command.js");
      return runKeys(args, { stdout: process.stdout, stderr: process.stderr });
    }
    case "openapi": {
      const { docsApp } = await import("./docs-app.js");
      const { openApiYaml } = await import("./openapi.js");
      const { VERSION } = await import("./version.js");
      process.stdout.write(openApiYaml(docsApp(), VERSION));
      return 0;
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`smsc-hub: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

run(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`smsc-hub: ${(err as Error)?.message ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
