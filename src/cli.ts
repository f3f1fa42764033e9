#!/usr/bin/env node
/** The `picklejar` command (package bin). All logic lives in src/cli/ and the library. */
import { main } from './cli/main.js';

process.exitCode = await main(process.argv.slice(2));
