#!/usr/bin/env node
import { main } from '../dist/main.js';

// `graft inspect big.pth | head` closes the pipe early: stop quietly instead of printing a stack.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

process.exitCode = await main(process.argv.slice(2));
