// Jest's global set-up: build what the end-to-end specs run as child processes once, before any
// worker starts, and tell the workers where it is (they inherit this process's environment).
const { buildForChildProcesses } = require('./child-build');

module.exports = async function buildChildProcesses() {
  process.env.STAGECRAFT_TEST_CHILD_BUILD = await buildForChildProcesses();
};
