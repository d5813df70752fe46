#!/usr/bin/env node
// The `metaq` command: one entry point with subcommands (yargs).
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { activityCommand } from './activity-command.js';
import { adminCommand } from './admin-command.js';
import { benchCommand } from './bench-command.js';
import { brokerCommand } from './broker-command.js';
import { namesrvCommand } from './namesrv-command.js';
import { compareCommand } from './compare-command.js';
import { scenarioCommand } from './scenario-command.js';
import { statsCommand } from './stats-command.js';

await yargs(hideBin(process.argv))
  .scriptName('metaq')
  .usage('$0 <command> [options]')
  .command(benchCommand)
  .command(brokerCommand)
  .command(namesrvCommand)
  .command(scenarioCommand)
  .command(compareCommand)
  .command(adminCommand)
  .command(activityCommand)
  .command(statsCommand)
  .demandCommand(1, 'Name a command; see --help.')
  .strict()
  .recommendCommands()
  .help()
  .alias('h', 'help')
  .version()
  .fail((msg, err, y) => {
    if (err !== undefined && err !== null) {
      const code = (err as { code?: string }).code;
      console.error(`metaq: ${code === undefined ? '' : `[${code}] `}${err.message}`);
    } else {
      console.error(y.help().toString());
      console.error(`\nmetaq: ${msg}`);
    }
    process.exit(2);
  })
  .parseAsync();
